"""Query parameters of the insights endpoints: range in the app's time zone, epoch, filters."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apps_registry.models import App
from datalab.errors import InvalidInput

FILTERS = ("path", "browser", "os", "device", "referrer", "campaign")
DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class InsightQuery:
    app: App
    epoch: int
    first_day: dt.date
    last_day: dt.date
    tz: ZoneInfo
    filters: dict[str, str]

    @property
    def start_ms(self) -> int:
        return _ms(dt.datetime.combine(self.first_day, dt.time(), self.tz))

    @property
    def end_ms(self) -> int:
        return _ms(dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time(), self.tz))

    @property
    def hourly(self) -> bool:
        """Hourly series for ranges up to 2 days, daily otherwise."""
        return (self.last_day - self.first_day).days < 2

    def bucket_of(self, ts: int) -> int:
        """The series bucket (start, epoch ms) of an event time, in the app's time zone."""
        local = dt.datetime.fromtimestamp(ts / 1000, self.tz)
        if self.hourly:
            local = local.replace(minute=0, second=0, microsecond=0)
        else:
            local = dt.datetime.combine(local.date(), dt.time(), self.tz)
        return _ms(local)

    def buckets(self) -> list[int]:
        """Every bucket of the range, empty ones included."""
        step = dt.timedelta(hours=1) if self.hourly else dt.timedelta(days=1)
        utc = dt.datetime.fromtimestamp(self.start_ms / 1000, dt.UTC)
        result, seen = [], set()
        while _ms(utc) < self.end_ms:
            bucket = self.bucket_of(_ms(utc))
            if bucket not in seen:
                seen.add(bucket)
                result.append(bucket)
            utc += step if self.hourly else dt.timedelta(hours=1)
        return result

    def previous(self) -> InsightQuery:
        """The period of the same length just before this one (the same filters)."""
        length = self.last_day - self.first_day + dt.timedelta(days=1)
        return dataclasses.replace(
            self, first_day=self.first_day - length, last_day=self.last_day - length
        )

    def label(self, bucket_ms: int) -> str:
        local = dt.datetime.fromtimestamp(bucket_ms / 1000, self.tz)
        return local.isoformat() if self.hourly else local.date().isoformat()


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _date(params, name: str, default: dt.date) -> dt.date:
    raw = params.get(name)
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            "Dates are YYYY-MM-DD.", fields={name: ["Enter a date as YYYY-MM-DD."]}
        ) from None


def parse_query(app: App, params, *, now: dt.datetime | None = None) -> InsightQuery:
    tz = ZoneInfo(app.timezone)
    today = (now or dt.datetime.now(dt.UTC)).astimezone(tz).date()
    last = _date(params, "to", today)
    first = _date(params, "from", last - dt.timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise InvalidInput("`from` is after `to`.", fields={"from": ["Must not be after `to`."]})
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(f"At most {MAX_DAYS} days.", fields={"from": ["Range too long."]})
    epoch = params.get("epoch") or str(app.epoch)
    if not epoch.isdigit() or not 1 <= int(epoch) <= app.epoch:
        raise InvalidInput("No such epoch.", fields={"epoch": [f"Use 1 to {app.epoch}."]})
    filters = {name: params[name] for name in FILTERS if params.get(name)}
    return InsightQuery(app, int(epoch), first, last, tz, filters)
