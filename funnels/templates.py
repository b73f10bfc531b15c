"""Path templates: how users say which pages a funnel stage matches, without regular expressions.

A template is an absolute path made of segments:

- a literal segment (``checkout``) matches the same segment, compared after percent-decoding,
  case-sensitively;
- a placeholder (``{id}``) matches exactly one non-empty segment;
- a trailing ``*`` matches whatever rest of the path, including nothing
  (``/docs/*`` matches ``/docs``, ``/docs/`` and ``/docs/a/b``).

Matching is trailing-slash insensitive. A compiled template compares a path segment by segment
with no regular expression, so it runs in time linear in the length of the path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

MAX_TEMPLATE_LENGTH = 200
MAX_PLACEHOLDER_NAME_LENGTH = 32
WILDCARD = "*"

_PLACEHOLDER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
# Invalid UTF-8 escapes decode to distinct code points, so %FE and %FF never compare equal.
_DECODE_ERRORS = "surrogateescape"


class TemplateError(ValueError):
    """A template the user typed is not valid; the message says why, for humans."""


@dataclass(frozen=True, slots=True)
class PathTemplate:
    """A compiled template.

    ``literals`` holds one entry per segment before the wildcard: the decoded literal text, or
    ``None`` for a placeholder. ``rest`` is true when the template ends with ``*``.
    """

    text: str
    literals: tuple[str | None, ...]
    rest: bool

    @property
    def key(self) -> tuple[tuple[str | None, ...], bool]:
        """What the template matches, independent of how it is spelled.

        ``/p/{id}/`` and ``/p/{slug}`` have the same key.
        """
        return self.literals, self.rest

    @property
    def is_exact(self) -> bool:
        """True when the template matches a single path (no placeholder, no wildcard)."""
        return not self.rest and None not in self.literals

    def matches(self, path: str) -> bool:
        """Whether ``path`` (a URL path; a query or fragment after it is ignored) matches."""
        return self.matches_segments(decoded_segments(path))

    def matches_segments(self, segments: Sequence[str]) -> bool:
        """Whether a path matches, given its ``decoded_segments`` (to split a path only once)."""
        expected = len(self.literals)
        if len(segments) < expected or (not self.rest and len(segments) != expected):
            return False
        for literal, segment in zip(self.literals, segments, strict=False):
            if literal is None:
                if not segment:
                    return False
            elif literal != segment:
                return False
        return True


def decoded_segments(path: str) -> tuple[str, ...]:
    """The percent-decoded segments of a URL path, ignoring one trailing slash.

    A query or fragment after the path is ignored. ``/`` and the empty path have no segment;
    ``//`` has one empty segment; ``/a//b/`` has ``("a", "", "b")``; ``/a%2Fb`` has the single
    segment ``"a/b"``.
    """
    for separator in "?#":
        path = path.partition(separator)[0]
    if path in ("", "/"):
        return ()
    path = path.removeprefix("/")
    if path.endswith("/"):
        path = path[:-1]
    return tuple(unquote(segment, errors=_DECODE_ERRORS) for segment in path.split("/"))


def compile_template(text: str) -> PathTemplate:
    """Compile a template, or raise ``TemplateError`` saying what is wrong with it.

    Surrounding whitespace is ignored; ``PathTemplate.text`` is the trimmed template.
    """
    if not isinstance(text, str):
        raise TemplateError("A path template must be text.")
    text = text.strip()
    _check_characters(text)
    body = text[1:].removesuffix("/") if text != "/" else None
    raw_segments = body.split("/") if body is not None else []
    literals: list[str | None] = []
    names: set[str] = set()
    for position, segment in enumerate(raw_segments):
        if segment == WILDCARD:
            if position != len(raw_segments) - 1:
                raise TemplateError("'*' is only allowed as the last segment, like /docs/*.")
            return PathTemplate(text=text, literals=tuple(literals), rest=True)
        literals.append(_compile_segment(segment, names=names))
    return PathTemplate(text=text, literals=tuple(literals), rest=False)


def _check_characters(text: str) -> None:
    if not text:
        raise TemplateError("Enter a path, like /checkout.")
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(f"A path template has at most {MAX_TEMPLATE_LENGTH} characters.")
    if not text.startswith("/"):
        raise TemplateError("A path template starts with '/', like /checkout.")
    for index, char in enumerate(text):
        if char == "?":
            raise TemplateError("Put query parameters in the stage's query, not in the path.")
        if char == "#":
            raise TemplateError("Remove the '#...' part: browsers never send it to the server.")
        if char.isspace() or not char.isprintable():
            raise TemplateError(
                f"Unexpected {char!r} at position {index + 1}: write spaces as %20."
            )
        if char == "%" and not _is_percent_escape(text, index):
            raise TemplateError(
                f"'%' at position {index + 1} must start an escape like %20 (two hex digits)."
            )


def _is_percent_escape(text: str, index: int) -> bool:
    escape = text[index + 1 : index + 3]
    return len(escape) == 2 and all(char in _HEX_DIGITS for char in escape)


def _compile_segment(segment: str, *, names: set[str]) -> str | None:
    """The decoded literal of one segment, or None for a placeholder."""
    if not segment:
        raise TemplateError("A path template cannot contain an empty segment ('//').")
    if WILDCARD in segment:
        raise TemplateError("'*' must be a whole segment, like /docs/*.")
    if segment.startswith("{") and segment.endswith("}"):
        _check_placeholder_name(segment[1:-1], names=names)
        return None
    if "{" in segment or "}" in segment:
        raise TemplateError(
            f"'{segment}': a placeholder must be a whole segment, like /products/{{id}}."
        )
    return unquote(segment, errors=_DECODE_ERRORS)


def _check_placeholder_name(name: str, *, names: set[str]) -> None:
    if not name:
        raise TemplateError("A placeholder needs a name, like {id}.")
    if len(name) > MAX_PLACEHOLDER_NAME_LENGTH or not _PLACEHOLDER_NAME.fullmatch(name):
        raise TemplateError(
            f"'{{{name}}}': a placeholder name has letters, digits and '_' "
            f"(at most {MAX_PLACEHOLDER_NAME_LENGTH}) and does not start with a digit."
        )
    if name in names:
        raise TemplateError(f"The placeholder {{{name}}} appears twice.")
    names.add(name)
