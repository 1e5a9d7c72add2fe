from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from execution.services.attendance import attendance_days_calculate
from inventory.models import Site
from mesproject.actors import Actor


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date {value!r}: give YYYY-MM-DD.") from exc


class Command(BaseCommand):
    help = (
        "Calculate the attendance days of a date (default: yesterday) for every worker with "
        "registrations that day. Approved and transferred days are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", type=_date, default=None, help="YYYY-MM-DD")
        parser.add_argument("--site", default=None, help="Only the workers of this site code.")

    def handle(self, *args, date=None, site=None, **options):
        # Yesterday in settings.TIME_ZONE, the zone the days are cut in.
        day = date or timezone.localdate(timezone=timezone.get_default_timezone()) - timedelta(
            days=1
        )
        site_obj = None
        if site:
            site_obj = Site.objects.filter(code=site).first()
            if site_obj is None:
                raise CommandError(f"Unknown site {site!r}.")
        days = attendance_days_calculate(
            date=day, actor=Actor(process="calculate_attendance"), site=site_obj
        )
        self.stdout.write(f"{day}: {len(days)} attendance day(s) calculated")
