"""Writes for organizations: registration, e-mail verification, operator-created users.

The rule "you are in the organization of your e-mail domain, and joining an existing one needs
proof that you own the address" lives here and only here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User, email_domain, normalize_email_address
from datalab.errors import Conflict, InvalidInput
from orgs.models import Membership, Organization

log = logging.getLogger(__name__)

VERIFY_SALT = "datalab.orgs.verify-email"


@dataclass(frozen=True)
class Registration:
    user: User
    membership: Membership
    verification_sent: bool


def _join_or_found(user: User, domain: str, *, verified: bool) -> Membership:
    """Put the user into the organization of `domain`, founding it when it does not exist."""
    now = timezone.now()
    try:
        with transaction.atomic():
            organization = Organization.objects.create(domain=domain, name=domain)
        return Membership.objects.create(
            user=user, organization=organization, is_founder=True, verified_at=now
        )
    except IntegrityError:
        organization = Organization.objects.get(domain=domain)
    return Membership.objects.create(
        user=user, organization=organization, verified_at=now if verified else None
    )


def _check_new_account(*, email: str, password: str, organization: str, user: User) -> None:
    errors: dict[str, list[str]] = {}
    if email_domain(email) != organization.strip().lower():
        errors["organization"] = ["The organization must be the domain of your e-mail address."]
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise InvalidInput("Some fields are not valid.", fields=errors)
    if User.objects.filter(email=email).exists():
        raise Conflict("An account with this e-mail address exists.", code="email_taken")


def user_register(
    *, email: str, password: str, first_name: str, last_name: str, organization: str
) -> Registration:
    """Create an account. The first person of a domain founds its organization; anyone later
    joins unverified and gets a signed, expiring link to prove they own the address."""
    email = normalize_email_address(email)
    candidate = User(email=email, first_name=first_name.strip(), last_name=last_name.strip())
    _check_new_account(email=email, password=password, organization=organization, user=candidate)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email, password, first_name=candidate.first_name, last_name=candidate.last_name
            )
            membership = _join_or_found(user, email_domain(email), verified=False)
    except IntegrityError:
        raise Conflict("An account with this e-mail address exists.", code="email_taken") from None
    sent = False
    if not membership.is_verified:
        send_verification_email(user=user)
        sent = True
    return Registration(user=user, membership=membership, verification_sent=sent)


def verification_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=VERIFY_SALT)


def send_verification_email(*, user: User) -> None:
    link = f"{settings.PUBLIC_URL}/verify?token={verification_token(user)}"
    hours = int(settings.EMAIL_VERIFICATION_MAX_AGE.total_seconds() // 3600)
    send_mail(
        subject="Confirm your e-mail address for datalab",
        message=(
            f"Hello {user.first_name or user.email},\n\n"
            f"to join your colleagues on datalab, confirm your address within {hours} hours:\n"
            f"{link}\n\nIf you did not register, ignore this message.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def email_verify(*, token: str) -> User:
    """Mark the membership of the token's user verified. Using a token twice is harmless."""
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidInput(
            "The link has expired; ask for a new one.", code="token_expired"
        ) from None
    except signing.BadSignature:
        raise InvalidInput("The link is not valid.", code="token_invalid") from None
    membership = (
        Membership.objects.select_related("user")
        .filter(user_id=data.get("u"), user__email=data.get("e"))
        .first()
    )
    if membership is None:
        raise InvalidInput("The link is not valid.", code="token_invalid")
    if membership.verified_at is None:
        membership.verified_at = timezone.now()
        membership.save(update_fields=["verified_at"])
    return membership.user


def verification_resend(*, email: str) -> None:
    """Send a new link to an unverified member. Says nothing about whether the address exists."""
    membership = (
        Membership.objects.select_related("user")
        .filter(user__email=normalize_email_address(email), verified_at__isnull=True)
        .first()
    )
    if membership is not None:
        send_verification_email(user=membership.user)


def user_create_verified(
    *, email: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    """Operators' path (management command): a verified user in the org of the e-mail's domain."""
    email = normalize_email_address(email)
    if "@" not in email or not email_domain(email):
        raise InvalidInput("Not an e-mail address.", fields={"email": ["Not an e-mail address."]})
    if User.objects.filter(email=email).exists():
        raise Conflict("An account with this e-mail address exists.", code="email_taken")
    with transaction.atomic():
        user = User.objects.create_user(email, password, first_name=first_name, last_name=last_name)
        _join_or_found(user, email_domain(email), verified=True)
    return user
