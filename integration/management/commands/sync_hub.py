"""Scale unit: one round with the hub now (what beat does every MES_HUB_SYNC_SECONDS)."""

from django.core.management.base import BaseCommand, CommandError

from execution.services.processing import registrations_process
from integration.scale_units.services import backlog, hub_sync
from mesproject.deployment import is_scale_unit


class Command(BaseCommand):
    help = "Take and apply the hub's packages, process registrations, send them to the hub."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-process", action="store_true", help="Leave local processing to the worker."
        )

    def handle(self, *args, **options):
        if not is_scale_unit():
            raise CommandError("sync_hub runs on a scale unit (MES_ROLE=scale_unit).")
        summary = hub_sync(force=True)
        self.stdout.write(str(summary))
        if not options["no_process"]:
            # Registrations were queued for the hub when accepted; processing here is for the
            # floor (jobs, quantities, logbook) and needs the packages just applied.
            self.stdout.write(f"processed here: {registrations_process()}")
        waiting = backlog()
        self.stdout.write(
            f"backlog: {waiting['to_hub']} to the hub, {waiting['rejected']} refused, "
            f"{waiting['packages_waiting']} package(s) waiting, "
            f"{waiting['packages_failed']} failed"
        )
