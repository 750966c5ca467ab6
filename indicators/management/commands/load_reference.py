from django.core.management.base import BaseCommand

from indicators.reference import reference_load


class Command(BaseCommand):
    help = "Load provinces, cities, indicators, rounds, thresholds and the 2021 Gigabit Cities (idempotent)."

    def handle(self, *args, **options):
        report = reference_load()
        self.stdout.write(
            self.style.SUCCESS(
                f"Reference data loaded: {report.provinces} provinces, {report.cities} cities, "
                f"{report.indicators} indicators; created {report.rounds_created} rounds, "
                f"{report.thresholds_created} thresholds, {report.designations_created} designations."
            )
        )
