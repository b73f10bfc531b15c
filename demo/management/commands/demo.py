"""python manage.py demo [--public-url URL] [--events N] [--days D] [--timezone TZ]

Sets up the demo (idempotently): an organization with an owner and a colleague, the public app
"Demo shop" (a four-stage funnel, a campaign, two tracked elements, a token) and its generated
traffic; prints how to sign in. A second run stores nothing twice (the days are generated
the same way again, and the store keeps what it has); on a later day it adds the new days.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from datalab.errors import DomainError
from demo import services
from demo.constants import DEMO_PASSWORD, DEMO_PATH


class Command(BaseCommand):
    help = "Set up the demo organization, app and traffic (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--public-url", default=settings.PUBLIC_URL)
        parser.add_argument("--events", type=int, default=1_000_000)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))

    def handle(self, *args, **options):
        url = options["public_url"].rstrip("/")
        try:
            demo = services.demo_setup(public_url=url, timezone=options["timezone"])
            self._print_credentials(demo, url)
            with tqdm(
                total=options["events"], unit=" events", unit_scale=True, disable=None
            ) as bar:
                generated = services.traffic_generate(
                    app=demo.app,
                    events=options["events"],
                    days=options["days"],
                    jobs=options["jobs"],
                    on_day=lambda day: bar.update(day.new + day.duplicates),
                )
        except DomainError as exc:
            raise CommandError(str(exc.detail)) from exc
        self.stdout.write(f"demo traffic: {generated.summary()}")

    def _print_credentials(self, demo, url: str) -> None:
        app = demo.app
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"datalab demo ({'created' if demo.created else 'already set up'}):",
                    f"  dashboard   {url}/   sign in as {demo.owner.email} (owner) or "
                    f"{demo.colleague.email} (colleague), password {DEMO_PASSWORD}",
                    f"  demo shop   {url}{DEMO_PATH}   click through it and watch "
                    f"{url}/apps/{app.pk}/live",
                    "",
                ]
            )
        )
