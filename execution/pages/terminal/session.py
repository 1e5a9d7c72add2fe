"""The terminal's session: the device account (signed in, may post registrations), the
terminal it is bound to (from the URL, kept in the session) and the worker signed in at it,
signed out after IDLE_SECONDS without a tap (checked on the server on every request). The
view decorators device_view, terminal_view and worker_view give each page what it needs."""

import time
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from ...models import Terminal, Worker
from ...services.senders import TERMINAL_KEY, WORKER_KEY

PERMISSION = "execution.add_rawregistration"


def idle_seconds() -> int:
    return settings.MES_TERMINAL_IDLE_SECONDS


def bound_terminal(request, code: str) -> Terminal:
    terminal = get_object_or_404(
        Terminal.objects.select_related("resource"), code=code, is_active=True
    )
    if request.session.get(TERMINAL_KEY) != terminal.pk:
        request.session[TERMINAL_KEY] = terminal.pk
    return terminal


def signed_in_worker(request, terminal: Terminal, *, touch: bool) -> Worker | None:
    """The worker signed in at this terminal, or None. A worker idle for longer than
    IDLE_SECONDS is signed out here; touch=True counts this request as activity."""
    data = request.session.get(WORKER_KEY)
    if not data:
        return None
    now = time.time()
    if data.get("terminal") != terminal.pk:
        del request.session[WORKER_KEY]
        return None
    if now - data.get("seen", 0) > idle_seconds():
        del request.session[WORKER_KEY]
        request.terminal_idle_sign_out = True  # the message below says why
        messages.info(request, f"Signed out after {idle_seconds() // 60} minutes without activity.")
        return None
    worker = Worker.objects.filter(pk=data.get("id"), is_active=True).first()
    if worker is None:
        del request.session[WORKER_KEY]
        return None
    if touch:
        request.session[WORKER_KEY] = {**data, "seen": now}
    return worker


def to_screen(terminal: Terminal, **query):
    url = reverse("terminal:terminal", args=[terminal.code])
    page = str(query.get("page") or "")
    return redirect(f"{url}?page={page}" if page.isdigit() else url)


def device_view(view):
    """A signed-in device account that may post registrations (checked before anything
    else, so a refused user gets 403 whatever the method)."""
    return login_required(permission_required(PERMISSION, raise_exception=True)(view))


def terminal_view(view):
    """Device account with the permission, an active terminal from the URL."""

    @device_view
    @wraps(view)
    def wrapper(request, code, *args, **kwargs):
        return view(request, bound_terminal(request, code), *args, **kwargs)

    return wrapper


def worker_view(view):
    """terminal_view, and a worker signed in (else back to the sign-in screen)."""

    @terminal_view
    @wraps(view)
    def wrapper(request, terminal, *args, **kwargs):
        worker = signed_in_worker(request, terminal, touch=True)
        if worker is None:
            if not getattr(request, "terminal_idle_sign_out", False):
                messages.warning(request, "Sign in with your badge first.")
            return to_screen(terminal)
        return view(request, terminal, worker, *args, **kwargs)

    return wrapper
