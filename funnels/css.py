"""Validation of the CSS selectors users type for click stages and tracked elements.

The browser evaluates selectors; the server only makes sure each one belongs to a conservative
subset of CSS Selectors Level 3 that every browser accepts, and spaces it out one canonical way
(the snippet reports clicks with the exact selector string it was given, so the stored form is
the lookup key). The subset:

- type selectors (``button``), ``*``, ``#id``, ``.class``;
- attributes: ``[attr]``, ``[attr=value]``, ``[attr="quoted value"]``, operators ``^= $= *=``;
- pseudo-classes ``:first-child``, ``:last-child``, ``:nth-child(An+B)``, ``:not(simple)``;
- combinators: descendant (space), ``>``, ``+``, ``~``; comma-separated lists.

Backslash escapes, namespaces and pseudo-elements are refused. A single left-to-right pass over
the text, so validation is linear in its length.
"""

from __future__ import annotations

import re
from typing import NoReturn

MAX_SELECTOR_LENGTH = 200

_WHITESPACE = " \t\n\r\f"
_COMBINATORS = ">+~"
_ATTRIBUTE_OPERATORS = ("^=", "$=", "*=", "=")
_UNSUPPORTED_OPERATORS = ("~=", "|=")
_SIMPLE_PSEUDO_CLASSES = ("first-child", "last-child")
_NTH = re.compile(r"([+-]?[0-9]*)n(?:[ \t\n\r\f]*([+-])[ \t\n\r\f]*([0-9]+))?|([+-]?[0-9]+)")
_ESCAPE_HINT = (
    "Backslash escapes are not supported; "
    'match such names with an attribute selector, like [class*="md:flex"].'
)


class SelectorError(ValueError):
    """A selector the user typed is not valid; the message says why, for humans."""


def normalize_selector(text: str) -> str:
    """The canonical spelling of a valid selector, or ``SelectorError`` saying what is wrong.

    ``"div>a.cta ,  #buy"`` becomes ``"div > a.cta, #buy"``. Normalizing twice changes nothing.
    """
    if not isinstance(text, str):
        raise SelectorError("A selector must be text.")
    text = text.strip(_WHITESPACE)
    if not text:
        raise SelectorError("Enter a CSS selector, like #buy or button.cta.")
    if len(text) > MAX_SELECTOR_LENGTH:
        raise SelectorError(f"A selector has at most {MAX_SELECTOR_LENGTH} characters.")
    normalized = _Parser(text).selector_list()
    if len(normalized) > MAX_SELECTOR_LENGTH:
        raise SelectorError(
            f"A selector has at most {MAX_SELECTOR_LENGTH} characters once spaced out "
            f"({len(normalized)} as {normalized!r})."
        )
    return normalized


def _is_name_start(char: str) -> bool:
    """Whether ``char`` may start a CSS name (after an optional '-')."""
    return (char.isascii() and (char.isalpha() or char == "_")) or _is_non_ascii_name(char)


def _is_name_char(char: str) -> bool:
    """Whether ``char`` may continue a CSS name."""
    return _is_name_start(char) or (char.isascii() and (char.isdigit() or char == "-"))


def _is_non_ascii_name(char: str) -> bool:
    return not char.isascii() and char.isprintable() and not char.isspace()


class _Parser:
    """Recursive descent over the text; each method returns the normalized text it consumed."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -- grammar ---------------------------------------------------------------------------

    def selector_list(self) -> str:
        parts = [self.complex_selector()]
        while self.peek() == ",":
            self.pos += 1
            parts.append(self.complex_selector())
        if self.pos < len(self.text):
            self.fail_unexpected()
        return ", ".join(parts)

    def complex_selector(self) -> str:
        self.skip_whitespace()
        parts = [self.compound()]
        while True:
            spaced = self.skip_whitespace()
            char = self.peek()
            if char in ("", ","):
                return "".join(parts)
            if char in _COMBINATORS:
                self.pos += 1
                self.skip_whitespace()
                parts.append(f" {char} ")
            elif not spaced:
                self.fail_unexpected()
            else:
                parts.append(" ")
            parts.append(self.compound())

    def compound(self) -> str:
        char = self.peek()
        parts = []
        if char == "*":
            self.pos += 1
            parts.append("*")
        elif self.at_name():
            parts.append(self.name("an element name"))
        while (subclass := self.subclass(inside_not=False)) is not None:
            parts.append(subclass)
        if not parts:
            self.fail_expected("a selector")
        if self.peek() == "*" or self.at_name():
            raise SelectorError(
                f"At position {self.pos + 1}: '*' or an element name comes first in a "
                "selector, like button.cta."
            )
        if self.peek() == "|":
            raise SelectorError("Namespaces ('|') are not supported.")
        return "".join(parts)

    def subclass(self, *, inside_not: bool) -> str | None:
        """One ``#id``, ``.class``, ``[attribute]`` or ``:pseudo``, or None when none is next."""
        char = self.peek()
        if char == "#":
            self.pos += 1
            return "#" + self.name("an id after '#'")
        if char == ".":
            self.pos += 1
            return "." + self.name("a class name after '.'")
        if char == "[":
            return self.attribute()
        if char == ":":
            return self.pseudo_class(inside_not=inside_not)
        if char == "\\":
            raise SelectorError(_ESCAPE_HINT)
        return None

    def attribute(self) -> str:
        self.pos += 1  # "["
        self.skip_whitespace()
        name = self.name("an attribute name after '['")
        self.skip_whitespace()
        if self.peek() == "]":
            self.pos += 1
            return f"[{name}]"
        operator = self.attribute_operator()
        self.skip_whitespace()
        value = self.attribute_value()
        self.skip_whitespace()
        if self.at_name():
            raise SelectorError("Attribute flags (like ' i]') are not supported.")
        self.expect("]")
        return f"[{name}{operator}{value}]"

    def attribute_operator(self) -> str:
        for operator in _ATTRIBUTE_OPERATORS:
            if self.text.startswith(operator, self.pos):
                self.pos += len(operator)
                return operator
        for operator in _UNSUPPORTED_OPERATORS:
            if self.text.startswith(operator, self.pos):
                raise SelectorError(
                    f"The attribute operator '{operator}' is not supported; "
                    "use one of =, ^=, $=, *=."
                )
        return self.fail_expected("']' or an operator (=, ^=, $=, *=)")

    def attribute_value(self) -> str:
        char = self.peek()
        if char in ("'", '"'):
            return self.string(quote=char)
        if self.at_name():
            return self.name("a value")
        if char and char not in "]":
            raise SelectorError(
                f'At position {self.pos + 1}: put the value in quotes, like [data-id="42"].'
            )
        return self.fail_expected("a value")

    def string(self, *, quote: str) -> str:
        start = self.pos
        self.pos += 1
        while (char := self.peek()) != quote:
            if not char:
                raise SelectorError(f"The quote at position {start + 1} is never closed.")
            if char == "\\":
                raise SelectorError("Backslash escapes are not supported inside quotes.")
            if not char.isprintable() and char != " ":
                raise SelectorError(
                    f"Unexpected {char!r} inside quotes at position {self.pos + 1}."
                )
            self.pos += 1
        self.pos += 1
        return self.text[start : self.pos]

    def pseudo_class(self, *, inside_not: bool) -> str:
        self.pos += 1  # ":"
        if self.peek() == ":":
            raise SelectorError("Pseudo-elements (like ::before) are not supported.")
        name = self.name("a pseudo-class name after ':'").lower()
        if name in _SIMPLE_PSEUDO_CLASSES:
            if self.peek() == "(":
                raise SelectorError(f"':{name}' takes no argument.")
            return f":{name}"
        if name == "nth-child":
            return f":nth-child({self.nth_argument()})"
        if name == "not" and not inside_not:
            return f":not({self.not_argument()})"
        if name == "not":
            raise SelectorError("':not()' cannot contain another ':not()'.")
        raise SelectorError(
            f"The pseudo-class ':{name}' is not supported; use :first-child, :last-child, "
            ":nth-child() or :not()."
        )

    def nth_argument(self) -> str:
        argument = self.parenthesized("':nth-child' needs an argument, like :nth-child(2)")
        compact = argument.strip(_WHITESPACE).lower()
        if compact in ("odd", "even"):
            return compact
        match = _NTH.fullmatch(compact) if compact.isascii() else None
        if match is None:
            raise SelectorError(
                f"':nth-child({argument})': the argument is a number, odd, even or a formula "
                "like 2n+1."
            )
        step, sign, offset, number = match.groups()
        return number if number is not None else f"{step}n{sign or ''}{offset or ''}"

    def not_argument(self) -> str:
        self.expect("(", hint="':not' needs a selector, like :not(.hidden)")
        self.skip_whitespace()
        char = self.peek()
        if char == "*":
            self.pos += 1
            simple = "*"
        elif self.at_name():
            simple = self.name("an element name")
        else:
            simple = self.subclass(inside_not=True) or self.fail_expected("a simple selector")
        self.skip_whitespace()
        if self.peek() != ")":
            raise SelectorError(
                f"At position {self.pos + 1}: ':not()' holds one simple selector, like "
                ":not(.hidden)."
            )
        self.pos += 1
        return simple

    # -- lexing ----------------------------------------------------------------------------

    def parenthesized(self, hint: str) -> str:
        """The raw text between '(' and the next ')'."""
        self.expect("(", hint=hint)
        end = self.text.find(")", self.pos)
        if end < 0:
            raise SelectorError(f"The '(' at position {self.pos} is never closed.")
        inside = self.text[self.pos : end]
        self.pos = end + 1
        return inside

    def name(self, what: str) -> str:
        start = self.pos
        if self.peek() == "-":
            self.pos += 1
            if self.peek() == "-":
                self.pos += 1
        if not (self.at_name_char() if self.pos - start == 2 else _is_name_start(self.peek())):
            if self.peek() == "\\":
                raise SelectorError(_ESCAPE_HINT)
            self.pos = start
            self.fail_expected(what)
        while self.at_name_char():
            self.pos += 1
        if self.peek() == "\\":
            raise SelectorError(_ESCAPE_HINT)
        return self.text[start : self.pos]

    def at_name(self) -> bool:
        char = self.peek()
        if char == "-":
            following = self.text[self.pos + 1 : self.pos + 2]
            return following == "-" or _is_name_start(following)
        return _is_name_start(char)

    def at_name_char(self) -> bool:
        char = self.peek()
        return bool(char) and _is_name_char(char)

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip_whitespace(self) -> bool:
        start = self.pos
        while self.peek() and self.peek() in _WHITESPACE:
            self.pos += 1
        return self.pos > start

    def expect(self, char: str, *, hint: str | None = None) -> None:
        if self.peek() != char:
            if hint is not None:
                raise SelectorError(hint + ".")
            self.fail_expected(f"'{char}'")
        self.pos += 1

    def fail_expected(self, what: str) -> NoReturn:
        if self.pos >= len(self.text):
            raise SelectorError(f"The selector ends where {what} was expected.")
        raise SelectorError(f"Expected {what} at position {self.pos + 1}, found {self.peek()!r}.")

    def fail_unexpected(self) -> NoReturn:
        raise SelectorError(f"Unexpected {self.peek()!r} at position {self.pos + 1}.")
