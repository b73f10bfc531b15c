"""Writes of notifications: mark read, hide, clear. Each tells the user's open sockets (every
tab) what changed, once the transaction commits."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from live import constants as c
from live import push
from live.models import Notification
from outbox import kinds


def _updated(user_id: int, ids: list[int], state: str) -> None:
    if ids:
        message = {"type": c.LAYER_UPDATED, "ids": ids, "state": state}
        transaction.on_commit(lambda: push.send([(c.user_group(user_id), message)]))


def _ids(values: Iterable) -> list[int]:
    try:
        return sorted({int(value) for value in values})
    except (TypeError, ValueError):
        return []


@transaction.atomic
def notifications_mark_read(*, user, ids: Iterable[int]) -> list[int]:
    """Mark the user's unread notifications among `ids` read; returns those that changed."""
    unread = Notification.objects.filter(
        user=user, pk__in=_ids(ids), read_at__isnull=True, hidden_at__isnull=True
    )
    changed = list(unread.values_list("pk", flat=True))
    Notification.objects.filter(pk__in=changed).update(read_at=timezone.now())
    _updated(user.pk, changed, c.STATE_READ)
    return changed


@transaction.atomic
def notifications_hide(*, user, ids: Iterable[int] | None = None) -> list[int]:
    """Hide the user's notifications among `ids` (all of them when `ids` is None: clear)."""
    visible = Notification.objects.filter(user=user, hidden_at__isnull=True)
    if ids is not None:
        visible = visible.filter(pk__in=_ids(ids))
    changed = list(visible.values_list("pk", flat=True))
    Notification.objects.filter(pk__in=changed).update(hidden_at=timezone.now())
    _updated(user.pk, changed, c.STATE_HIDDEN)
    return changed


@transaction.atomic
def invite_notifications_withdraw(*, invite_id: int | None, user_ids: Iterable[int]) -> None:
    """Hide the notifications of an invitation that was revoked: it cannot be answered."""
    if invite_id is None:
        return
    stale = Notification.objects.filter(
        user_id__in=list(user_ids),
        kind__in=[kinds.INVITE_SENT, kinds.INVITE_REMINDED],
        data__invite=invite_id,
        hidden_at__isnull=True,
    )
    by_user: dict[int, list[int]] = {}
    for pk, user_id in stale.values_list("pk", "user_id"):
        by_user.setdefault(user_id, []).append(pk)
    stale.update(hidden_at=timezone.now())
    for user_id, ids in by_user.items():
        _updated(user_id, ids, c.STATE_HIDDEN)
