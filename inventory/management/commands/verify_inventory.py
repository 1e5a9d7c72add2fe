"""python manage.py verify_inventory: on-hand == sum(ledger) for every key, or exit 1."""

from django.core.management.base import BaseCommand, CommandError

from inventory.services import inventory_verify


class Command(BaseCommand):
    help = (
        "Compare every on-hand balance and reservation with the sum of its ledger rows; "
        "print each difference and exit non-zero when there is one."
    )

    def handle(self, *args, **options):
        report = inventory_verify()
        for difference in report.differences:
            self.stderr.write(f"DIFFERENCE {difference}")
        for problem in report.problems:
            self.stderr.write(f"PROBLEM {problem}")
        summary = (
            f"{report.on_hand_keys} on-hand keys and {report.reservations} reservations "
            f"checked: {len(report.differences)} differences, {len(report.problems)} problems."
        )
        if not report.ok:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
