from django.core.management.base import BaseCommand

from mesproject.workplace.roles import roles_ensure


class Command(BaseCommand):
    help = "Create or refresh the role groups (planner, supervisor, operator, erp-integration, it)."

    def handle(self, *args, **options):
        groups = roles_ensure()
        self.stdout.write(f"Roles ready: {', '.join(sorted(groups))}")
