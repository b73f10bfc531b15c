"""The answers of the insights endpoints, computed from rollups of the events of a range.

Backend-neutral: every event store gives the same `Rollups` (eventstore.rollups: small tables
per piece of the range's events, merged exactly), so every backend gives the same answers.
Definitions (docs/insights.md):
- metrics count events with ts in [start, end); a *session* is the set of a session id's
  events in that range; its referrer and campaign are those of its first pageview that has one,
  its entry and exit pages its first and last pageview (by time, then path), its browser, os and
  device those of its first event;
- filters select whole sessions (browser, os, device, referrer, campaign; `path`: sessions that
  viewed it, and only that path's pageviews count);
- uniques are exact (distinct codes), never sums of daily uniques.

Every report takes a store's `Rollups` (unfiltered ranges) or a `Scan` (the range's events by
columns, filters applied; the reports read the rollups of its events). Arrays are indexed by
rollup row or by code (a session, visitor or path: its index in the string table).

Modules by report: `scan` (filters), `sessions` (sessions merged across pieces), `traffic`
(overview, pages, technology, sources), `funnel` (with `reach`: how far each visitor got),
`journeys`, `elements`, `live`; `arrays` holds the helpers. Each report module names the rollup
columns its reports read (OVERVIEW, PAGES, ...).
"""

from .arrays import DIRECT, LEFT, UNKNOWN, distinct_counts
from .elements import ELEMENTS, elements
from .funnel import DROPOFFS, FUNNEL, dropoffs, funnel, levels
from .journeys import JOURNEYS, journeys
from .live import live
from .scan import Scan, rollups_of
from .traffic import (
    OVERVIEW,
    PAGES,
    SOURCES,
    TECHNOLOGY,
    breakdown,
    overview,
    pages,
    series_fits,
    sources,
)

__all__ = [
    "DIRECT",
    "DROPOFFS",
    "ELEMENTS",
    "FUNNEL",
    "JOURNEYS",
    "LEFT",
    "OVERVIEW",
    "PAGES",
    "SOURCES",
    "TECHNOLOGY",
    "UNKNOWN",
    "Scan",
    "breakdown",
    "distinct_counts",
    "dropoffs",
    "elements",
    "funnel",
    "journeys",
    "levels",
    "live",
    "overview",
    "pages",
    "rollups_of",
    "series_fits",
    "sources",
]
