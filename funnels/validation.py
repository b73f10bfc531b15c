"""Validation of funnel configurations (their shape: `funnels.config`).

``validate_config`` checks what a user saves; ``load_config`` reads back what is stored (the
default configuration of a new app has no stage yet, which saving does not allow). Both accept
any JSON-like value and either return a ``Config`` or raise ``ConfigInvalid`` with a message
per field path.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from funnels.config import (
    DEFAULT_ORDER,
    DEFAULT_WINDOW_SECONDS,
    EVENT_NAME,
    KINDS,
    MAX_CAMPAIGNS,
    MAX_ELEMENTS,
    MAX_NAME_LENGTH,
    MAX_QUERY_NAME_LENGTH,
    MAX_QUERY_PARAMS,
    MAX_QUERY_VALUE_LENGTH,
    MAX_STAGES,
    MAX_UTM_LENGTH,
    MAX_WINDOW_SECONDS,
    MIN_WINDOW_SECONDS,
    NON_FIELD_ERRORS,
    ORDERS,
    UTM_PARAMS,
    Campaign,
    Config,
    ConfigInvalid,
    Element,
    Funnel,
    Stage,
)
from funnels.css import SelectorError, normalize_selector
from funnels.templates import TemplateError, compile_template

_MAX_UNKNOWN_REPORTED = 5
_MAX_KEY_IN_PATH = 64
_ROOT_FIELDS = ("funnel", "campaigns", "elements")
_FUNNEL_FIELDS = ("order", "window_seconds", "stages")
_STAGE_FIELDS = ("name", "kind", "match", "query")
_CAMPAIGN_FIELDS = ("name", *UTM_PARAMS)
_ELEMENT_FIELDS = ("name", "selector")


def validate_config(data: object) -> Config:
    """Validate a configuration a user saves: 1 to 20 stages and every other rule."""
    return _parse(data, require_stages=True)


def load_config(data: object) -> Config:
    """Validate a stored configuration; unlike ``validate_config``, zero stages is fine."""
    return _parse(data, require_stages=False)


# -- reading ---------------------------------------------------------------------------------

_MISSING: Any = object()
_T = TypeVar("_T")


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.fields.setdefault(path or NON_FIELD_ERRORS, []).append(message)


def _parse(data: object, *, require_stages: bool) -> Config:
    errors = _Errors()
    root = _object(data, path="", fields=_ROOT_FIELDS, errors=errors)
    if root is None:
        raise ConfigInvalid(errors.fields)
    funnel = _funnel(root.get("funnel", {}), errors=errors, require_stages=require_stages)
    campaigns = _campaigns(root.get("campaigns", []), errors=errors)
    elements = _elements(root.get("elements", []), errors=errors)
    if errors.fields or funnel is None:
        raise ConfigInvalid(errors.fields)
    return Config(funnel=funnel, campaigns=campaigns, elements=elements)


def _join(path: str, key: object) -> str:
    text = key if isinstance(key, str) else repr(key)
    if len(text) > _MAX_KEY_IN_PATH:
        text = text[:_MAX_KEY_IN_PATH] + "..."
    return f"{path}.{text}" if path else text


def _object(
    value: object, *, path: str, fields: tuple[str, ...], errors: _Errors
) -> dict[Any, Any] | None:
    """``value`` when it is an object; reports it otherwise, and reports its unknown keys."""
    if not isinstance(value, dict):
        errors.add(path, "Must be an object.")
        return None
    unknown = [key for key in value if not (isinstance(key, str) and key in fields)]
    for key in unknown[:_MAX_UNKNOWN_REPORTED]:
        errors.add(_join(path, key), "Unknown field.")
    if len(unknown) > _MAX_UNKNOWN_REPORTED:
        errors.add(path, f"{len(unknown) - _MAX_UNKNOWN_REPORTED} more unknown fields.")
    return value


def _entries(
    value: object,
    *,
    path: str,
    most: int,
    parse: Callable[..., _T | None],
    errors: _Errors,
) -> list[tuple[str, _T]]:
    """The (path, parsed entry) of each valid entry of a list of at most ``most`` entries.

    Too long a list is reported as a whole; its entries are not looked at.
    """
    if not isinstance(value, list):
        errors.add(path, "Must be a list.")
        return []
    if len(value) > most:
        errors.add(path, f"At most {most} entries.")
        return []
    parsed = [(f"{path}.{index}", item) for index, item in enumerate(value)]
    return [
        (item_path, entry)
        for item_path, item in parsed
        if (entry := parse(item, path=item_path, errors=errors)) is not None
    ]


def _text(value: object, *, path: str, most: int, errors: _Errors) -> str | None:
    """Trimmed, non-blank text of at most ``most`` characters without control characters."""
    if value is _MISSING:
        errors.add(path, "This field is required.")
        return None
    if not isinstance(value, str):
        errors.add(path, "Must be text.")
        return None
    text = value.strip()
    if not text:
        errors.add(path, "Must not be blank.")
    elif len(text) > most:
        errors.add(path, f"At most {most} characters.")
    elif any(_is_control(char) for char in text):
        errors.add(path, "Must not contain line breaks or control characters.")
    else:
        return text
    return None


def _is_control(char: str) -> bool:
    return char < " " or "\x7f" <= char <= "\x9f" or "\ud800" <= char <= "\udfff"


def _choice(value: object, *, path: str, choices: tuple[str, ...], errors: _Errors) -> str | None:
    if value is _MISSING:
        errors.add(path, "This field is required.")
    elif not (isinstance(value, str) and value in choices):
        errors.add(path, f"Must be one of: {', '.join(choices)}.")
    else:
        return value
    return None


def _repeats(entries: Iterable[tuple[str, Hashable, _T]]) -> Iterator[tuple[str, _T]]:
    """For each (path, key, item) whose key an earlier entry has: its path and that earlier item."""
    first: dict[Hashable, _T] = {}
    for path, key, item in entries:
        if key in first:
            yield path, first[key]
        else:
            first[key] = item


def _check_unique_names(
    entries: Iterable[tuple[str, _Named]], *, what: str, errors: _Errors
) -> None:
    """Names are unique within a list, ignoring case."""
    named = ((f"{path}.name", entry.name.casefold(), entry) for path, entry in entries)
    for path, earlier in _repeats(named):
        errors.add(path, f"Another {what} is already named {earlier.name!r}.")


# -- the funnel ------------------------------------------------------------------------------


def _funnel(value: object, *, errors: _Errors, require_stages: bool) -> Funnel | None:
    funnel = _object(value, path="funnel", fields=_FUNNEL_FIELDS, errors=errors)
    if funnel is None:
        return None
    order = _choice(
        funnel.get("order", DEFAULT_ORDER), path="funnel.order", choices=ORDERS, errors=errors
    )
    window = _window(funnel.get("window_seconds", DEFAULT_WINDOW_SECONDS), errors=errors)
    stages = _stages(funnel.get("stages", []), errors=errors, require_stages=require_stages)
    if order is None or window is None:
        return None
    return Funnel(order=order, window_seconds=window, stages=stages)


def _window(value: object, *, errors: _Errors) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add("funnel.window_seconds", "Must be a whole number of seconds.")
    elif not MIN_WINDOW_SECONDS <= value <= MAX_WINDOW_SECONDS:
        errors.add(
            "funnel.window_seconds",
            f"Must be between {MIN_WINDOW_SECONDS} (a minute) and {MAX_WINDOW_SECONDS} (90 days).",
        )
    else:
        return value
    return None


def _stages(value: object, *, errors: _Errors, require_stages: bool) -> tuple[Stage, ...]:
    if require_stages and value == []:
        errors.add("funnel.stages", "Add at least one stage.")
    entries = _entries(value, path="funnel.stages", most=MAX_STAGES, parse=_stage, errors=errors)
    stages = [(path, stage) for path, (stage, _) in entries]
    _check_unique_names(stages, what="stage", errors=errors)
    matches = ((f"{path}.match", key, stage) for path, (stage, key) in entries)
    for path, earlier in _repeats(matches):
        errors.add(
            path,
            f"Stage {earlier.name!r} already matches this; each stage matches something else.",
        )
    return tuple(stage for _, stage in stages)


def _stage(value: object, *, path: str, errors: _Errors) -> tuple[Stage, Hashable] | None:
    """The stage and what it matches (two stages with the same key match the same thing)."""
    stage = _object(value, path=path, fields=_STAGE_FIELDS, errors=errors)
    if stage is None:
        return None
    name = _text(
        stage.get("name", _MISSING), path=f"{path}.name", most=MAX_NAME_LENGTH, errors=errors
    )
    kind = _choice(stage.get("kind", _MISSING), path=f"{path}.kind", choices=KINDS, errors=errors)
    match = _match(stage.get("match", _MISSING), kind=kind, path=f"{path}.match", errors=errors)
    query = _query(stage.get("query", {}), kind=kind, path=f"{path}.query", errors=errors)
    if name is None or kind is None or match is None or query is None:
        return None
    key: Hashable = (kind, match)
    if kind == "page":
        key = (kind, compile_template(match).key, frozenset(query))
    return Stage(name=name, kind=kind, match=match, query=query), key


def _match(value: object, *, kind: str | None, path: str, errors: _Errors) -> str | None:
    """The normalized match of a stage of ``kind`` (unchecked while the kind is unknown)."""
    if value is _MISSING:
        errors.add(path, "This field is required.")
        return None
    if not isinstance(value, str):
        errors.add(path, "Must be text.")
        return None
    try:
        return _normalize_match(value, kind=kind)
    except (TemplateError, SelectorError, _EventNameError) as error:
        errors.add(path, str(error))
        return None


class _EventNameError(ValueError):
    pass


def _normalize_match(text: str, *, kind: str | None) -> str | None:
    if kind == "page":
        return compile_template(text).text
    if kind == "click":
        return normalize_selector(text)
    if kind == "event":
        name = text.strip()
        if not EVENT_NAME.fullmatch(name):
            raise _EventNameError(
                "An event name has 1 to 64 letters, digits, '_', '.', ':' or '-', like signup."
            )
        return name
    return None


def _query(
    value: object, *, kind: str | None, path: str, errors: _Errors
) -> tuple[tuple[str, str], ...] | None:
    if value == {}:
        return ()
    if kind is not None and kind != "page":
        errors.add(path, "Only page stages can require query parameters.")
        return None
    if not isinstance(value, dict):
        errors.add(path, "Must be an object of parameter names and values.")
        return None
    if len(value) > MAX_QUERY_PARAMS:
        errors.add(path, f"At most {MAX_QUERY_PARAMS} parameters.")
        return None
    pairs = [
        (_join(path, key), _query_pair(key, item, path=path, errors=errors))
        for key, item in value.items()
    ]
    valid = [(item_path, pair) for item_path, pair in pairs if pair is not None]
    for repeat_path, (param, _) in _repeats((item_path, p[0], p) for item_path, p in valid):
        errors.add(repeat_path, f"The parameter {param!r} appears twice.")
    return tuple(pair for _, pair in valid) if len(valid) == len(pairs) else None


def _query_pair(
    name: object, value: object, *, path: str, errors: _Errors
) -> tuple[str, str] | None:
    item_path = _join(path, name)
    param = name.strip() if isinstance(name, str) else ""
    if not param or len(param) > MAX_QUERY_NAME_LENGTH or any(_is_control(c) for c in param):
        errors.add(
            item_path,
            f"A parameter name has 1 to {MAX_QUERY_NAME_LENGTH} characters, "
            "without control characters.",
        )
        return None
    text = _text(value, path=item_path, most=MAX_QUERY_VALUE_LENGTH, errors=errors)
    return None if text is None else (param, text)


# -- campaigns and elements ------------------------------------------------------------------


def _campaigns(value: object, *, errors: _Errors) -> tuple[Campaign, ...]:
    entries = _entries(value, path="campaigns", most=MAX_CAMPAIGNS, parse=_campaign, errors=errors)
    _check_unique_names(entries, what="campaign", errors=errors)
    _check_reachable(entries, errors=errors)
    return tuple(campaign for _, campaign in entries)


def _campaign(value: object, *, path: str, errors: _Errors) -> Campaign | None:
    campaign = _object(value, path=path, fields=_CAMPAIGN_FIELDS, errors=errors)
    if campaign is None:
        return None
    name = _text(
        campaign.get("name", _MISSING), path=f"{path}.name", most=MAX_NAME_LENGTH, errors=errors
    )
    given = [param for param in UTM_PARAMS if param in campaign]
    if not given:
        errors.add(path, "Give at least one of: " + ", ".join(UTM_PARAMS) + ".")
    utm = [
        (param, _text(campaign[param], path=f"{path}.{param}", most=MAX_UTM_LENGTH, errors=errors))
        for param in given
    ]
    values = [(param, text) for param, text in utm if text is not None]
    if name is None or not given or len(values) != len(utm):
        return None
    return Campaign(name=name, utm=tuple(values))


def _check_reachable(campaigns: list[tuple[str, Campaign]], *, errors: _Errors) -> None:
    """Attribution picks the first campaign that fits, so a later campaign whose values include
    all of an earlier one's would never be picked."""
    requirements = [
        {(param, value.casefold()) for param, value in campaign.utm} for _, campaign in campaigns
    ]
    for later, (path, campaign) in enumerate(campaigns):
        earlier = next((i for i in range(later) if requirements[i] <= requirements[later]), None)
        if earlier is not None:
            first = campaigns[earlier][1].name
            errors.add(
                path,
                f"Never attributed: {first!r} comes first and fits every visit "
                f"{campaign.name!r} fits; move {campaign.name!r} above {first!r}.",
            )


def _elements(value: object, *, errors: _Errors) -> tuple[Element, ...]:
    entries = _entries(value, path="elements", most=MAX_ELEMENTS, parse=_element, errors=errors)
    _check_unique_names(entries, what="element", errors=errors)
    selectors = ((f"{path}.selector", item.selector, item) for path, item in entries)
    for path, earlier in _repeats(selectors):
        errors.add(path, f"The element {earlier.name!r} already tracks this selector.")
    return tuple(element for _, element in entries)


def _element(value: object, *, path: str, errors: _Errors) -> Element | None:
    element = _object(value, path=path, fields=_ELEMENT_FIELDS, errors=errors)
    if element is None:
        return None
    name = _text(
        element.get("name", _MISSING), path=f"{path}.name", most=MAX_NAME_LENGTH, errors=errors
    )
    selector = element.get("selector", _MISSING)
    if selector is _MISSING:
        errors.add(f"{path}.selector", "This field is required.")
        return None
    try:
        normalized = normalize_selector(selector)
    except SelectorError as error:
        errors.add(f"{path}.selector", str(error))
        return None
    return None if name is None else Element(name=name, selector=normalized)
