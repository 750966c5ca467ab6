from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from reviews.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Open a current round, create demo accounts (one per role at least) and sample submissions; idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="seed even with DJANGO_DEBUG=0 (only on a training or test server: the demo password is public)",
        )

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            # The demo accounts (admin among them) get a password printed here and written in the
            # README: never on a production server by accident.
            raise CommandError(
                "seed_demo creates accounts with a public password and refuses to run with DJANGO_DEBUG=0. "
                "On a training or test server, pass --allow-production."
            )
        # The demo's notifications are real, but e-mailing a dozen of them to the console while seeding
        # would bury the logins printed below.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            accounts, round_ = seed_demo()
        site = settings.GIGACITY_SITE_URL
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: the {round_.year} round is open (deadline {round_.deadline:%Y-%m-%d})."
            )
        )
        self.stdout.write(f"\nOpen {site}/ and log in with one of these accounts (password for all: {DEMO_PASSWORD})\n")
        for account in accounts:
            scope = account.city or account.province or "全国 / nationwide"
            if account.operator:
                scope = f"{account.province} {account.operator}"
            self.stdout.write(f"  {account.username:<10} {account.role:<9} {scope:<16} {account.name}")
