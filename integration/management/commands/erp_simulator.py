"""``manage.py erp_simulator``: the stand-alone ERP simulator with the project's defaults."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integration.demo.erp_simulator import serve


class Command(BaseCommand):
    help = "Run the ERP simulator that receives the signed MES outbox messages."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--secret",
            dest="secrets",
            action="append",
            help="signing secret (repeatable); defaults to settings.MES_ERP_SIGNING_SECRETS",
        )
        parser.add_argument(
            "--db", help="SQLite file of records (default: VAR_DIR/erp-simulator.sqlite3)"
        )
        parser.add_argument("--quiet", action="store_true", help="no per-request log lines")

    def handle(self, *args, **options):
        secrets = options["secrets"] or self.default_secrets()
        db_path = options["db"] or settings.VAR_DIR / "erp-simulator.sqlite3"
        serve(options["host"], options["port"], secrets, db_path, quiet=options["quiet"])

    def default_secrets(self) -> list[str]:
        """The MES's own signing secrets, so the simulator verifies what the MES sends."""
        secrets = getattr(settings, "MES_ERP_SIGNING_SECRETS", None)
        if not secrets:
            raise CommandError(
                "No signing secret: pass --secret or set MES_ERP_SIGNING_SECRETS in settings."
            )
        return list(secrets)
