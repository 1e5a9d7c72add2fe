from django.conf import settings
from django.core.management.base import BaseCommand

from integration.demo.plant import DEMO_USERS, seed_demo_plant
from mesproject.workplace.roles import roles_ensure


class Command(BaseCommand):
    help = "Create the demo bicycle plant: master data, ~20 orders in every state, demo users."

    def handle(self, *args, **options):
        roles_ensure()  # the demo users' groups, with their permissions
        result = seed_demo_plant()
        if not result["created"]:
            self.stdout.write("Demo plant already present; nothing changed.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo plant created: {result['items']} items, {result['orders']} orders."
            )
        )
        names = ", ".join(name for name, _ in DEMO_USERS)
        self.stdout.write(f"Demo users: {names} (password: {settings.MES_DEMO_PASSWORD})")
