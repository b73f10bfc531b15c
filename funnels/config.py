"""An app's funnel configuration: its shape, limits and value types (validation.py checks it).

The stored shape (a contract with the dashboard and the API; field names are fixed)::

    {"funnel": {"order": "ordered" | "strict" | "any",
                "window_seconds": 60..7776000,
                "stages": [{"name", "kind": "page" | "click" | "event", "match",
                            "query": {param: value or "*"}  # page stages only, optional
                           }, ...]},
     "campaigns": [{"name", "utm_source"?, "utm_medium"?, "utm_campaign"?, "utm_term"?,
                    "utm_content"?}, ...],
     "elements": [{"name", "selector"}, ...]}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ORDERS = ("ordered", "strict", "any")
KINDS = ("page", "click", "event")
UTM_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
DEFAULT_ORDER = "ordered"
DEFAULT_WINDOW_SECONDS = 7 * 24 * 3600
MIN_WINDOW_SECONDS = 60
MAX_WINDOW_SECONDS = 90 * 24 * 3600
MAX_STAGES = 20
MAX_CAMPAIGNS = 50
MAX_ELEMENTS = 50
MAX_NAME_LENGTH = 64
MAX_UTM_LENGTH = 100
MAX_QUERY_PARAMS = 10
MAX_QUERY_NAME_LENGTH = 64
MAX_QUERY_VALUE_LENGTH = 100
ANY_VALUE = "*"
EVENT_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
NON_FIELD_ERRORS = "non_field_errors"


@dataclass(frozen=True, slots=True)
class Stage:
    """One funnel stage. ``query`` holds (param, value) pairs; ``"*"`` accepts any value."""

    name: str
    kind: str
    match: str
    query: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind, "match": self.match}
        if self.query:
            data["query"] = dict(self.query)
        return data


@dataclass(frozen=True, slots=True)
class Funnel:
    order: str
    window_seconds: int
    stages: tuple[Stage, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "order": self.order,
            "window_seconds": self.window_seconds,
            "stages": [stage.to_dict() for stage in self.stages],
        }


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign; ``utm`` holds its (utm_* param, value) pairs in ``UTM_PARAMS`` order."""

    name: str
    utm: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **dict(self.utm)}


@dataclass(frozen=True, slots=True)
class Element:
    name: str
    selector: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "selector": self.selector}


@dataclass(frozen=True, slots=True)
class Config:
    """A valid configuration, normalized (names trimmed, selectors spaced canonically)."""

    funnel: Funnel
    campaigns: tuple[Campaign, ...] = ()
    elements: tuple[Element, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The stored shape, with every default filled in and empty queries left out."""
        return {
            "funnel": self.funnel.to_dict(),
            "campaigns": [campaign.to_dict() for campaign in self.campaigns],
            "elements": [element.to_dict() for element in self.elements],
        }


DEFAULT_CONFIG = Config(
    funnel=Funnel(order=DEFAULT_ORDER, window_seconds=DEFAULT_WINDOW_SECONDS, stages=())
)


def default_config_dict() -> dict[str, Any]:
    """A fresh copy of the default configuration (usable as a JSONField default)."""
    return DEFAULT_CONFIG.to_dict()


class ConfigInvalid(ValueError):
    """The configuration breaks rules; ``fields`` maps error paths to human messages.

    Paths join keys and list indexes with dots (``"funnel.stages.2.match"``); errors about the
    whole value are under ``NON_FIELD_ERRORS``.
    """

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.fields = fields
        summary = "; ".join(f"{path}: {' '.join(messages)}" for path, messages in fields.items())
        super().__init__(f"Invalid funnel configuration: {summary}")

    def __reduce__(self) -> tuple[type[ConfigInvalid], tuple[dict[str, list[str]]]]:
        return type(self), (self.fields,)
