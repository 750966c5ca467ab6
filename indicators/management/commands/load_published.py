from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from indicators.models import Round
from indicators.published import published_load


class Command(BaseCommand):
    help = (
        "Load a round's published key-indicator table (MIIT's 千兆城市关键指标情况汇总表, .csv or .xlsx) as the "
        "published figures of that round: every row or none; loading it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("year", type=int, help="The round the table was published for, e.g. 2022")
        parser.add_argument("file", type=Path, help="The table: .csv (UTF-8 or GB18030) or .xlsx")
        parser.add_argument("--dry-run", action="store_true", help="Check and count, keep nothing")

    def handle(self, *args, year: int, file: Path, dry_run: bool, **options):
        round_ = Round.objects.filter(year=year).first()
        if round_ is None:
            raise CommandError(_("There is no %(year)s round.") % {"year": year})
        if not file.is_file():
            raise CommandError(_("No such file: %(name)s") % {"name": file})
        try:
            with file.open("rb") as upload:
                result = published_load(round_=round_, upload=upload, name=file.name, dry_run=dry_run)
        except ValidationError as exc:
            raise CommandError("\n".join([_("Nothing was loaded:"), *exc.messages])) from None
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS(_("Checked, nothing loaded: %(summary)s") % {"summary": result.summary()})
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("%(year)s published figures loaded: %(summary)s") % {"year": year, "summary": result.summary()}
                )
            )
