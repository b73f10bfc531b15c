"""Databases made by an earlier layout keep working: models that moved between apps keep their
rows (DomainEvent moved from `live` to `outbox`)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# The latest migrations of the layout before the move: `live` owned DomainEvent, no `outbox`.
BEFORE_THE_MOVE = [("live", "0002_notification"), ("outbox", None)]


def _migrate(targets):
    """Migrate to `targets`; the apps of the state there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_domain_events_of_a_database_made_before_the_move_are_read_through_outbox(make_user):
    author = make_user("ann@acme.test")
    old_apps = _migrate(BEFORE_THE_MOVE)
    OldDomainEvent = old_apps.get_model("live", "DomainEvent")
    assert OldDomainEvent._meta.db_table == "live_domainevent"
    OldDomainEvent.objects.create(
        kind="app.locked",
        actor_id=author.pk,
        app_ref=7,
        organization_ref=3,
        recipients=[author.pk],
        data={"epoch": 2},
        at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
    )

    new_apps = _migrate(_latest())

    DomainEvent = new_apps.get_model("outbox", "DomainEvent")
    (event,) = DomainEvent.objects.all()
    assert (event.kind, event.app_ref, event.data, event.actor_id) == (
        "app.locked",
        7,
        {"epoch": 2},
        author.pk,
    )
    tables = connection.introspection.table_names()
    assert "outbox_domainevent" in tables and "live_domainevent" not in tables
    with pytest.raises(LookupError):
        new_apps.get_model("live", "DomainEvent")


@pytest.mark.django_db(transaction=True)
def test_the_move_can_be_rolled_back_to_the_earlier_layout(make_user):
    _migrate(_latest())
    old_apps = _migrate(BEFORE_THE_MOVE)
    assert "live_domainevent" in connection.introspection.table_names()
    assert old_apps.get_model("live", "DomainEvent").objects.count() == 0
    _migrate(_latest())
