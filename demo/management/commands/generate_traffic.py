"""python manage.py generate_traffic --app ID [--events N | --visitors N] [--days D] [--seed S]
[--end YYYY-MM-DD] [--jobs J]

Realistic traffic for an app's current epoch and its frozen configuration (demo/traffic.py says
what it looks like), written through the event store. Deterministic for a seed; generating the
same days again stores nothing twice.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps_registry.models import App
from datalab.errors import DomainError
from demo import services, traffic


def _positive(value: str) -> int:
    if not value.replace("_", "").isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError("a whole number, 1 or more")
    return int(value)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a date as YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Generate realistic traffic for an app (its current epoch) into the event store."

    def add_arguments(self, parser):
        parser.add_argument("--app", type=_positive, required=True, help="the app's id")
        size = parser.add_mutually_exclusive_group()
        size.add_argument(
            "--events", type=_positive, help="about this many events (default 100000)"
        )
        size.add_argument("--visitors", type=_positive, help="about this many visitors")
        parser.add_argument("--days", type=_positive, default=30, help="days of traffic (30)")
        parser.add_argument("--seed", type=int, default=7, help="the same seed, the same events")
        parser.add_argument("--end", type=_date, help="the last day (default: today, app's zone)")
        parser.add_argument(
            "--jobs", type=_positive, default=min(4, os.cpu_count() or 1),
            help="processes generating days in parallel (default: the cores, at most 4)",
        )  # fmt: skip

    def handle(self, *args, **options):
        app = App.objects.filter(pk=options["app"]).first()
        if app is None:
            raise CommandError(f"No app {options['app']}.")
        events, visitors = options["events"], options["visitors"]
        if events is None and visitors is None:
            events = 100_000
        try:
            site = services.site_of(app)
            expected = events or round(visitors * traffic.events_per_person(site))
            with tqdm(total=expected, unit=" events", unit_scale=True, disable=None) as bar:
                generated = services.traffic_generate(
                    app=app,
                    events=events,
                    visitors=visitors,
                    days=options["days"],
                    seed=options["seed"],
                    end=options["end"],
                    jobs=1 if expected < 50_000 else options["jobs"],
                    on_day=lambda day: bar.update(day.new + day.duplicates),
                )
        except DomainError as exc:
            raise CommandError(str(exc.detail)) from exc
        self.stdout.write(f"generate_traffic: {generated.summary()}")
