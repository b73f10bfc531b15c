"""python manage.py create_user EMAIL --password P [--first-name ..] [--last-name ..]"""

from django.core.management.base import BaseCommand, CommandError

from datalab.errors import DomainError
from orgs import services


class Command(BaseCommand):
    help = "Create a verified user in the organization of the e-mail's domain (founding it)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--password", required=True)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args, **options):
        try:
            user = services.user_create_verified(
                email=options["email"],
                password=options["password"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except DomainError as exc:
            raise CommandError(str(exc.detail)) from exc
        organization = user.membership.organization
        self.stdout.write(f"Created {user.email} (verified) in organization {organization.domain}")
