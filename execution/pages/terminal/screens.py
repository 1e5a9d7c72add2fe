"""The terminal's screens: which terminal this device is, the sign-in or the signed-in
worker's screen (state, actions, jobs), sign in and out, and the last registrations (polled
by htmx)."""

import time
import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from inventory.fields import show
from mesproject.errors import ApplicationError

from ...models import Terminal
from ...services.senders import TERMINAL_KEY, WORKER_KEY
from ...services.terminal import (
    resource_offered_jobs,
    worker_check_pin,
    worker_recent_registrations,
    worker_state,
)
from .forms import SignInForm
from .session import device_view, idle_seconds, signed_in_worker, terminal_view, to_screen

JOBS_PAGE_SIZE = 8
TERMINALS_PAGE_SIZE = 24


@device_view
@require_GET
def home(request):
    """Which terminal this device is; a device already bound goes straight to its screen."""
    bound = request.session.get(TERMINAL_KEY)
    if bound and "change" not in request.GET:
        terminal = Terminal.objects.filter(pk=bound, is_active=True).first()
        if terminal is not None:
            return redirect("terminal:terminal", code=terminal.code)
    terminals = Terminal.objects.filter(is_active=True).select_related("resource").order_by("code")
    page = Paginator(terminals, TERMINALS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "terminal/home.html", {"page": page, "bound": bound})


@terminal_view
@require_GET
def terminal(request, terminal):
    """The terminal's screen: sign-in, or the signed-in worker's state, actions and jobs.
    ?check=1 (the idle refresh of the form pages) is not a tap: it does not count as
    activity."""
    worker = signed_in_worker(request, terminal, touch="check" not in request.GET)
    if worker is None:
        return render(
            request, "terminal/sign_in.html", {"terminal": terminal, "form": SignInForm()}
        )
    state = worker_state(worker=worker, at=timezone.now())
    page = Paginator(resource_offered_jobs(resource=terminal.resource), JOBS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "job": job,
            "open": job.pk in state.open_job_ids,
            "good": show(job.quantity_good),
            "planned": show(job.planned_quantity),
        }
        for job in page
    ]
    # One fresh UUID per form on the screen: a repeated tap re-sends the same one.
    running = [
        {
            "job": open_job.job,
            "since": open_job.since,
            "finishes_order": open_job.finishes_order,
            "uuid": uuid.uuid4(),
        }
        for open_job in state.open_jobs
    ]
    return render(
        request,
        "terminal/screen.html",
        {
            "terminal": terminal,
            "worker": worker,
            "state": state,
            "page": page,
            "rows": rows,
            "running": running,
            "uuids": {
                name: uuid.uuid4()
                for name in ("clock_in", "clock_out", "break", "indirect_stop", "bundle")
            },
            "recent": worker_recent_registrations(worker=worker),
            "idle_seconds": idle_seconds(),
        },
    )


@terminal_view
@require_POST
def sign_in(request, terminal):
    form = SignInForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Scan your badge and type your PIN.")
        return to_screen(terminal)
    try:
        worker = worker_check_pin(
            badge_id=form.cleaned_data["badge_id"], pin=form.cleaned_data["pin"]
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return to_screen(terminal)
    if worker is None:
        messages.error(request, "Badge or PIN not recognized. Try again.")
        return to_screen(terminal)
    request.session.cycle_key()  # a new worker, a new session key
    request.session[WORKER_KEY] = {"id": worker.pk, "terminal": terminal.pk, "seen": time.time()}
    messages.success(request, f"Hello, {worker.name}.")
    return to_screen(terminal)


@terminal_view
@require_POST
def sign_out(request, terminal):
    """ "Done": the worker leaves the terminal; the device stays signed in."""
    data = request.session.pop(WORKER_KEY, None)
    if data:
        messages.success(request, "Signed out. See you.")
    return to_screen(terminal)


@terminal_view
@require_GET
def recent(request, terminal):
    """The worker's last registrations and their processing status (polled by htmx)."""
    worker = signed_in_worker(request, terminal, touch=False)
    if worker is None:
        # Idle or signed out elsewhere: the whole screen goes back to the sign-in.
        url = reverse("terminal:terminal", args=[terminal.code])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return render(
        request,
        "terminal/_recent.html",
        {"terminal": terminal, "recent": worker_recent_registrations(worker=worker)},
    )
