"""The answers of the insights endpoints, computed from the events of a range by columns.

Backend-neutral: every event store gives the same `Columns` (eventstore.columns), so every
backend gives the same answers. Definitions (docs/insights.md):
- metrics count events with ts in [start, end); a *session* is the set of a session id's
  events in that range; its referrer and campaign are those of its first pageview that has one,
  its entry and exit pages its first and last pageview (by time, then path), its browser, os and
  device those of its first event;
- filters select whole sessions (browser, os, device, referrer, campaign; `path`: sessions that
  viewed it, and only that path's pageviews count);
- uniques are exact (distinct codes), never sums of daily uniques.

Arrays are indexed by row (events in (ts, event_id) order) or by code (a session, visitor or
path: its index in the columns' string table).

Modules by report: `scan` (sessions and filters, shared by all), `traffic` (overview, pages,
technology, sources), `funnel`, `journeys`, `elements`, `live`; `arrays` holds the helpers.
"""

from .arrays import DIRECT, LEFT, UNKNOWN, distinct_counts
from .elements import elements
from .funnel import dropoffs, funnel
from .journeys import journeys
from .live import live
from .scan import Scan
from .traffic import breakdown, overview, pages, sources

__all__ = [
    "DIRECT",
    "LEFT",
    "UNKNOWN",
    "Scan",
    "breakdown",
    "distinct_counts",
    "dropoffs",
    "elements",
    "funnel",
    "journeys",
    "live",
    "overview",
    "pages",
    "sources",
]
