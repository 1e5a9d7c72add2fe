"""python manage.py reconcile_wip [--snapshot ID]: the nightly reconciliation, now."""

from django.core.management.base import BaseCommand, CommandError

from integration.models import ErpWipSnapshot
from integration.reconciliation.services import reconciliation_run, run_summary


class Command(BaseCommand):
    help = "Compare the ERP's WIP snapshot with the MES WIP and book what differs."

    def add_arguments(self, parser):
        parser.add_argument(
            "--snapshot", type=int, help="The snapshot to compare (default: the latest)."
        )

    def handle(self, *args, snapshot=None, **options):
        chosen = None
        if snapshot is not None:
            chosen = ErpWipSnapshot.objects.filter(pk=snapshot).first()
            if chosen is None:
                raise CommandError(f"ERP WIP snapshot {snapshot} does not exist.")
        run = reconciliation_run(trigger="command", actor_label="process:command", snapshot=chosen)
        # A crash marks the run failed and propagates: the exit status is not 0.
        self.stdout.write(run_summary(run))
