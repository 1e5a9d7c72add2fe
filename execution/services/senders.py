"""Who sends a registration, and what that sender may post (docs/execution.md, "Who sent
it"). Checked before registration_accept by both doors: the API view and the browser
terminal's pages.

- A terminal's own credential (its API token) posts as that terminal: its resource's jobs,
  its site's workers and orders; a `terminal` in the body that names another is refused.
- A browser terminal session (a device account signed in at /terminal/) posts as the
  terminal bound to the session, and only for the worker signed in there with badge and PIN,
  over the API too.
- Any other credential (a shared operator token, a scale unit's token) names its terminal
  in the body, and the registration must hold together: the named terminal's resource and
  site, the worker's site, the job's or order's site are one site.
- The source is the credential's: `scale-unit:<CODE>` for a scale unit's token, `terminal`
  for anything else, never a header.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from rest_framework.authtoken.models import Token

from inventory.models import Site
from mesproject.deployment import is_scale_unit
from mesproject.errors import Forbidden, NotAllowed

from ..choices import RegistrationKind
from ..models import Terminal, Worker
from .registrations import RegistrationInput

# The browser terminal's session: the terminal the device is bound to, and the worker signed
# in there ({"id", "terminal", "seen"}); written by the terminal pages.
TERMINAL_KEY = "terminal:id"
WORKER_KEY = "terminal:worker"
TERMINAL_SOURCE = "terminal"
SCALE_UNIT_SOURCE = "scale-unit:{code}"
# The terminal's account: named after it, it cannot sign in with a password.
TERMINAL_USERNAME = "terminal-{code}"


@dataclass(frozen=True)
class Sender:
    """What the credential of a post says about its sender."""

    terminal: Terminal | None = None  # the terminal the credential stands for
    browser: bool = False  # a browser session: a worker's action needs that worker's sign-in
    signed_in: Worker | None = None  # browser: the worker signed in with badge and PIN
    scale_unit: str = ""  # the scale unit's code, from its token

    @property
    def source(self) -> str:
        if self.scale_unit:
            return SCALE_UNIT_SOURCE.format(code=self.scale_unit)
        return TERMINAL_SOURCE


def sender_for_token(user) -> Sender:
    """A token's sender: a terminal's own account, a scale unit's, or another account."""
    terminal = (
        Terminal.objects.select_related("resource").filter(user=user).first()
        if user is not None and user.is_authenticated
        else None
    )
    # execution may not import integration: a scale unit's account is known by the
    # `scale_unit` relation integration's ScaleUnit.user gives it.
    scale_unit = getattr(user, "scale_unit", None) if terminal is None else None
    return Sender(terminal=terminal, scale_unit=scale_unit.code if scale_unit else "")


def sender_for_session(session) -> Sender:
    """A browser session's sender: the terminal bound to the session and the worker signed
    in at it, unless the worker's sign-in is older than the terminal's idle time (the same
    rule as the terminal pages)."""
    terminal_id = session.get(TERMINAL_KEY)
    terminal = (
        Terminal.objects.select_related("resource").filter(pk=terminal_id).first()
        if terminal_id
        else None
    )
    data = session.get(WORKER_KEY) or {}
    signed_in = None
    if (
        terminal is not None
        and data.get("terminal") == terminal.pk
        and time.time() - data.get("seen", 0) <= settings.MES_TERMINAL_IDLE_SECONDS
    ):
        signed_in = Worker.objects.filter(pk=data.get("id"), is_active=True).first()
    return Sender(terminal=terminal, browser=True, signed_in=signed_in)


def _site_of(data: RegistrationInput) -> int | None:
    """The site the registration is about: its order's, its job's, else its resource's."""
    if data.order is not None:
        return data.order.site_id
    for job in [data.job, *data.jobs]:
        if job is not None:
            return job.order.site_id
    if data.resource is not None:
        return data.resource.site_id
    return None


def _check_site_runs_here(sender: Sender, site_id: int | None) -> None:
    """The hub: the floor of a site a scale unit runs lives on that scale unit, so the hub
    takes that site's registrations from it only (a terminal pointed at the hub by mistake
    would make the two drift apart), and a scale unit posts for its own sites only."""
    if site_id is None or is_scale_unit():
        return
    # The scale unit running the site, read through the site's relation to integration's
    # ScaleUnitSite (execution may not import integration; the same seam as a scale unit's
    # account in sender_for_token).
    owner = (
        Site.objects.filter(pk=site_id, scale_unit_site__scale_unit__is_active=True)
        .values_list("scale_unit_site__scale_unit__code", flat=True)
        .first()
    ) or ""
    if sender.scale_unit and owner != sender.scale_unit:
        raise _not_here(f"Scale unit {sender.scale_unit} does not run this registration's site.")
    if not sender.scale_unit and owner:
        raise _not_here(f"Its site is run by scale unit {owner}: register there.")


def _not_here(message: str) -> NotAllowed:
    return NotAllowed(message, code="registration_not_here")


def _refuse(message: str, code: str, **fields) -> Forbidden:
    return Forbidden(message, code=code, fields={k: str(v) for k, v in fields.items()})


def sender_check(*, sender: Sender, data: RegistrationInput) -> RegistrationInput:
    """Refuse (403 with a code) what this sender may not post; return the registration with
    the terminal its credential stands for filled in."""
    signed_in = sender.signed_in
    if sender.browser and (signed_in is None or data.worker is None or data.worker != signed_in):
        raise _refuse(
            "A worker's registration from a terminal needs that worker's badge sign-in at "
            "the terminal.",
            "worker_not_signed_in",
            badge_id=data.worker.badge_id if data.worker is not None else "",
        )
    terminal = data.terminal
    if sender.terminal is not None:
        if terminal is not None and terminal.pk != sender.terminal.pk:
            raise _refuse(
                f"This credential is terminal {sender.terminal.code}'s: it cannot post as "
                f"terminal {terminal.code}.",
                "terminal_mismatch",
                terminal=terminal.code,
            )
        terminal = sender.terminal
        if not terminal.is_active:
            raise _refuse(f"Terminal {terminal.code} is not active.", "terminal_inactive")
        data = dataclasses.replace(data, terminal=terminal)
    if terminal is not None:
        resource = terminal.resource
        if data.resource is not None and data.resource.pk != resource.pk:
            raise _refuse(
                f"Terminal {terminal.code} is at resource {resource.code}, not "
                f"{data.resource.code}.",
                "terminal_wrong_resource",
                resource=data.resource.code,
            )
        # A worker may stop their own job from any terminal of the site (one left running
        # at another machine); everything else happens at the job's resource.
        if data.kind != RegistrationKind.STOP_JOB:
            for job in [data.job, *data.jobs]:
                if job is not None and job.resource_id != resource.pk:
                    raise _refuse(
                        f"Job {job.pk} is at resource {job.resource.code}: terminal "
                        f"{terminal.code} posts only for {resource.code}'s jobs.",
                        "terminal_wrong_resource",
                        job=job.pk,
                    )
        site = _site_of(data)
        if site is not None and site != resource.site_id:
            raise _refuse(
                f"Terminal {terminal.code} is at another site than the registration's order.",
                "terminal_wrong_site",
                terminal=terminal.code,
            )
        site = resource.site_id
    else:
        site = _site_of(data)
    if data.worker is not None and site is not None and data.worker.site_id != site:
        raise _refuse(
            f"Worker {data.worker.badge_id} works at another site than the registration's.",
            "worker_wrong_site",
            badge_id=data.worker.badge_id,
        )
    if site is None and data.worker is not None:
        site = data.worker.site_id  # attendance: the worker's site
    _check_site_runs_here(sender, site)
    return data


# --- A terminal's credential ----------------------------------------------------------------


@transaction.atomic
def terminal_issue_token(*, terminal: Terminal) -> str:
    """Give the terminal its own account (once) and a new API token, which replaces the one
    before (a lost or stolen device is cut off by issuing again). Returns the token's key:
    shown once, never stored in the clear elsewhere."""
    terminal = Terminal.objects.select_for_update().get(pk=terminal.pk)
    user = terminal.user
    if user is None:
        user = get_user_model().objects.create_user(
            TERMINAL_USERNAME.format(code=terminal.code), password=None
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        # Its permission directly, not the operator group: it is no person's account.
        user.user_permissions.add(
            Permission.objects.get(
                content_type__app_label="execution", codename="add_rawregistration"
            )
        )
        terminal.user = user
        terminal.save(update_fields=["user"])
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user, key=secrets.token_hex(20)).key
