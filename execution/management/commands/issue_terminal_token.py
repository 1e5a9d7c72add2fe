"""Issue a terminal its own API token (a new one replaces the old) and print it."""

from django.core.management.base import BaseCommand, CommandError

from execution.models import Terminal
from execution.services.senders import terminal_issue_token


class Command(BaseCommand):
    help = (
        "Give a terminal its own account and a new API token (replacing any earlier one) and "
        "print the token: the device sends it as `Authorization: Token <key>`."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", nargs="+", help="Terminal code(s).")

    def handle(self, *args, code, **options):
        terminals = {t.code: t for t in Terminal.objects.filter(code__in=code)}
        missing = [c for c in code if c not in terminals]
        if missing:
            raise CommandError(f"Unknown terminal(s): {', '.join(missing)}.")
        for terminal_code in code:
            key = terminal_issue_token(terminal=terminals[terminal_code])
            self.stdout.write(f"{terminal_code} {key}")
