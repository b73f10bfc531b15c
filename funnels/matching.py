"""An app's configuration compiled for the ingest hot path.

Compile once per configuration change (``CompiledConfig.from_dict``), then ask it, for every
event, which funnel stages the event reaches and which campaign a landing URL belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from funnels.config import ANY_VALUE, UTM_PARAMS, Config
from funnels.css import MAX_SELECTOR_LENGTH, SelectorError, normalize_selector
from funnels.templates import PathTemplate, compile_template, decoded_segments
from funnels.validation import load_config

_Params = dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class _PageStage:
    index: int
    template: PathTemplate
    query: tuple[tuple[str, str], ...]

    def accepts(self, params: _Params) -> bool:
        return all(
            name in params and (value == ANY_VALUE or value in params[name])
            for name, value in self.query
        )


class CompiledConfig:
    """A valid configuration, indexed for fast lookups. Immutable; share it across threads."""

    __slots__ = (
        "_campaigns",
        "_campaigns_by_pair",
        "_click_selectors",
        "_clicks",
        "_element_names",
        "_elements",
        "_events",
        "_exact_pages",
        "_other_pages",
        "config",
    )

    def __init__(self, *, config: Config) -> None:
        self.config = config
        self._exact_pages: dict[tuple[str, ...], list[_PageStage]] = {}
        self._other_pages: list[_PageStage] = []
        self._clicks: dict[str, list[int]] = {}
        self._events: dict[str, list[int]] = {}
        for index, stage in enumerate(config.funnel.stages):
            if stage.kind == "page":
                template = compile_template(stage.match)
                self._add_page_stage(_PageStage(index=index, template=template, query=stage.query))
            elif stage.kind == "click":
                self._clicks.setdefault(stage.match, []).append(index)
            else:
                self._events.setdefault(stage.match, []).append(index)
        self._campaigns = tuple(
            (campaign.name, tuple((param, value.casefold()) for param, value in campaign.utm))
            for campaign in config.campaigns
        )
        # A campaign fits only URLs carrying its first (param, value): look up those pairs only.
        self._campaigns_by_pair: dict[tuple[str, str], list[int]] = {}
        for position, (_, requirements) in enumerate(self._campaigns):
            if requirements:
                self._campaigns_by_pair.setdefault(requirements[0], []).append(position)
        self._elements = tuple((element.name, element.selector) for element in config.elements)
        self._element_names = frozenset(name for name, _ in self._elements)
        selectors = [*self._clicks, *(selector for _, selector in self._elements)]
        self._click_selectors = tuple(dict.fromkeys(selectors))

    @classmethod
    def from_dict(cls, config_dict: object) -> CompiledConfig:
        """Compile a stored configuration (zero stages is fine); ``ConfigInvalid`` if broken."""
        return cls(config=load_config(config_dict))

    def _add_page_stage(self, stage: _PageStage) -> None:
        if stage.template.is_exact:
            path = tuple(literal for literal in stage.template.literals if literal is not None)
            self._exact_pages.setdefault(path, []).append(stage)
        else:
            self._other_pages.append(stage)

    # -- stages --------------------------------------------------------------------------------

    def stages_for_pageview(self, url: str) -> list[int]:
        """Indexes (0-based, ascending) of the page stages a view of ``url`` reaches."""
        if not self._exact_pages and not self._other_pages:
            return []
        try:
            parts = urlsplit(url)
        except ValueError:
            return []
        segments = decoded_segments(parts.path)
        candidates = [
            *self._exact_pages.get(segments, ()),
            *(stage for stage in self._other_pages if stage.template.matches_segments(segments)),
        ]
        if any(stage.query for stage in candidates):
            params = parse_qs(parts.query, keep_blank_values=True)
            candidates = [stage for stage in candidates if stage.accepts(params)]
        return sorted(stage.index for stage in candidates)

    def stages_for_click(self, selector: str) -> list[int]:
        """Indexes of the click stages whose selector is ``selector`` (as sent in the hello)."""
        indexes = self._clicks.get(selector)
        if indexes is None and self._clicks and len(selector) <= 2 * MAX_SELECTOR_LENGTH:
            try:
                indexes = self._clicks.get(normalize_selector(selector))
            except SelectorError:
                return []
        return list(indexes or ())

    def stages_for_event(self, name: str) -> list[int]:
        """Indexes of the event stages for the custom event ``name`` (case-sensitive)."""
        return list(self._events.get(name, ()))

    # -- campaigns -----------------------------------------------------------------------------

    def campaign_for(self, url: str) -> str | None:
        """The first campaign all of whose utm_* values the landing ``url`` carries.

        Values compare ignoring case and surrounding spaces; when a parameter repeats, its first
        value counts.
        """
        if not self._campaigns or "utm" not in url:
            return None
        try:
            query = urlsplit(url).query
        except ValueError:
            return None
        params = parse_qs(query, keep_blank_values=True)
        utm = {
            name: values[0].strip().casefold()
            for name, values in params.items()
            if name in UTM_PARAMS
        }
        candidates = sorted(
            position for pair in utm.items() for position in self._campaigns_by_pair.get(pair, ())
        )
        for position in candidates:
            name, requirements = self._campaigns[position]
            if all(utm.get(param) == value for param, value in requirements):
                return name
        return None

    # -- the snippet's hello -------------------------------------------------------------------

    def click_selectors(self) -> list[str]:
        """Selectors whose clicks the snippet reports: click stages', then tracked elements'."""
        return list(self._click_selectors)

    def elements(self) -> list[dict[str, str]]:
        """The tracked elements, as ``{"name", "selector"}`` objects."""
        return [{"name": name, "selector": selector} for name, selector in self._elements]

    def element_names(self) -> set[str]:
        """The names of the tracked elements (a fresh set)."""
        return set(self._element_names)

    def has_element(self, name: str) -> bool:
        """Whether ``name`` is a tracked element's name; cheaper than ``element_names()``."""
        return name in self._element_names
