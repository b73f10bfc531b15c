"""Entry points of the processes that generate days in parallel (`traffic_generate(jobs=N)`).

Spawned processes (where the platform cannot fork) import this module before Django is set up,
so it imports nothing that needs the app registry until `start` has run.
"""

from __future__ import annotations


def start(stores: dict) -> None:
    """Set Django up, with the parent's event store settings (tests may override them)."""
    import django
    from django.conf import settings

    django.setup()
    for name, value in stores.items():
        setattr(settings, name, value)


def write_days(*args):
    from demo.days import write_days

    return write_days(*args)
