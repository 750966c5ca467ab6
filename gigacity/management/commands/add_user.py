import argparse

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from gigacity.models import Role
from gigacity.services import user_provision


class Command(BaseCommand):
    help = (
        "Create or update one account: add_user USERNAME --password PW --role city|bureau|operator|ministry|admin "
        "[--city CODE | --province CODE [--operator CODE]] [--security-officer]"
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", help="required for a new account; omit to keep an existing password")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--city", help="6-digit code of the city (role city), e.g. 370200")
        parser.add_argument("--province", help="6-digit code of the province (role bureau or operator), e.g. 370000")
        parser.add_argument(
            "--operator", help="the telecom operator (role operator): telecom, mobile, unicom or broadnet"
        )
        parser.add_argument("--name", default="", help="the person's full name")
        parser.add_argument("--email", default="")
        parser.add_argument("--phone", default="")
        parser.add_argument(
            "--security-officer",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="give (or with --no-security-officer take) the right to read the security audit trail; "
            "ministry staff and administrators only",
        )

    def handle(
        self, *args, username, password, role, city, province, operator, name, email, phone, security_officer, **options
    ):
        try:
            user, created = user_provision(
                username=username,
                password=password,
                role=role,
                city_code=city,
                province_code=province,
                operator_code=operator,
                full_name=name,
                email=email,
                phone=phone,
                security_officer=security_officer,
            )
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise CommandError(problems) from None
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {user.username} ({user.get_role_display()}, {user.scope_label})"))
