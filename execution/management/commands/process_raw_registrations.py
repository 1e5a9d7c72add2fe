from django.core.management.base import BaseCommand

from execution.services.processing import registrations_process


class Command(BaseCommand):
    help = "Process pending shop-floor registrations now (what the beat job does every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Stop after this many.")

    def handle(self, *args, limit=None, **options):
        summary = registrations_process(limit=limit)
        self.stdout.write(str(summary))
        for lane in sorted(summary.held_lanes):
            self.stdout.write(f"held: {lane} (a failed registration waits for a supervisor)")
