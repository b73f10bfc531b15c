"""Reads about organizations and colleagues."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from orgs.models import Membership, Organization


def verified_membership(user: User) -> Membership | None:
    """The user's membership if it is verified, else None (unverified users see no org data)."""
    if not user or not user.is_authenticated:
        return None
    # The reverse one-to-one raises a subclass of AttributeError when there is no membership.
    membership = getattr(user, "membership", None)
    return membership if membership is not None and membership.is_verified else None


def organization_of(user: User) -> Organization | None:
    membership = verified_membership(user)
    return membership.organization if membership else None


def colleagues_of(user: User) -> QuerySet[User]:
    """Verified users of the user's organization, the user excluded."""
    organization = organization_of(user)
    if organization is None:
        return User.objects.none()
    return (
        User.objects.filter(
            is_active=True,
            membership__organization=organization,
            membership__verified_at__isnull=False,
        )
        .exclude(pk=user.pk)
        .order_by("first_name", "last_name", "email")
    )


def colleagues_matching(user: User, search: str, *, limit: int = 20) -> QuerySet[User]:
    """Colleagues whose e-mail address or name contains `search` (any case), at most `limit`."""
    words = search.split()
    colleagues = colleagues_of(user)
    for word in words:
        colleagues = colleagues.filter(
            Q(email__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word)
        )
    return colleagues[:limit]


def are_colleagues(a: User, b: User) -> bool:
    org_a, org_b = organization_of(a), organization_of(b)
    return org_a is not None and org_a == org_b
