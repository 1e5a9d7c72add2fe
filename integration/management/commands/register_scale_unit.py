"""Hub: register a scale unit for its sites and print what the scale unit's environment needs."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integration.scale_units.services import scale_unit_register
from inventory.models import Site
from mesproject.deployment import is_scale_unit
from mesproject.errors import ApplicationError


class Command(BaseCommand):
    help = "Register a scale unit for one or more sites and issue its API token."

    def add_arguments(self, parser):
        parser.add_argument("code", help="The scale unit's id (its MES_SCALE_UNIT_ID).")
        parser.add_argument("--site", action="append", required=True, help="A site code.")
        parser.add_argument("--name", default="")
        parser.add_argument("--rotate-token", action="store_true", help="Issue a new token.")
        parser.add_argument(
            "--hub-url", default=settings.MES_PUBLIC_URL, help="The URL the scale unit calls."
        )

    def handle(self, *args, **options):
        if is_scale_unit():
            raise CommandError("Scale units are registered on the hub.")
        sites = list(Site.objects.filter(code__in=options["site"]))
        missing = set(options["site"]) - {s.code for s in sites}
        if missing:
            raise CommandError(f"Unknown site(s): {', '.join(sorted(missing))}.")
        try:
            registered = scale_unit_register(
                code=options["code"],
                name=options["name"],
                sites=sites,
                rotate_token=options["rotate_token"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"MES_ROLE=scale_unit\n"
            f"MES_SCALE_UNIT_ID={registered.scale_unit.code}\n"
            f"MES_HUB_URL={options['hub_url']}\n"
            f"MES_HUB_TOKEN={registered.token}\n"
        )
