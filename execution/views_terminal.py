"""The operator terminal: a touch screen at a resource, used with gloves.

The device is signed in with a Django account that may post registrations
(execution.add_rawregistration) and is bound to one Terminal, kept in the session. A worker
then signs in with badge and PIN; the worker's session ends with "Done" or after
IDLE_SECONDS without a tap (checked on the server on every request).

Every action posts a registration through registration_accept, exactly as the API does: the
registration is stored at once and the processor turns it into journals in the background.
Each form carries the registration UUID made when it was shown, so a double tap stores one.
"""

import time
import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from inventory.choices import Tracking
from inventory.fields import show
from mesproject.actors import Actor
from mesproject.errors import ApplicationError

from .choices import JobKind, RegistrationKind
from .forms_terminal import (
    AbsenceForm,
    BundleForm,
    FinishForm,
    IndirectForm,
    ProgressForm,
    RegistrationForm,
    SignInForm,
    StartForm,
)
from .models import Job, Terminal, Worker
from .services.limits import job_limits, last_operations
from .services.registrations import RegistrationInput, registration_accept
from .services.senders import TERMINAL_KEY, WORKER_KEY, Sender, sender_check
from .services.terminal import (
    resource_offered_jobs,
    worker_check_pin,
    worker_recent_registrations,
    worker_state,
)

K = RegistrationKind
PERMISSION = "execution.add_rawregistration"
JOBS_PAGE_SIZE = 8
TERMINALS_PAGE_SIZE = 24


def idle_seconds() -> int:
    return settings.MES_TERMINAL_IDLE_SECONDS


# --- Device, terminal and worker ----------------------------------------------------------


def _require(request) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _terminal(request, code: str) -> Terminal:
    terminal = get_object_or_404(
        Terminal.objects.select_related("resource"), code=code, is_active=True
    )
    if request.session.get(TERMINAL_KEY) != terminal.pk:
        request.session[TERMINAL_KEY] = terminal.pk
    return terminal


def _worker(request, terminal: Terminal, *, touch: bool) -> Worker | None:
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


def _screen(terminal: Terminal, **query):
    url = reverse("terminal:terminal", args=[terminal.code])
    page = str(query.get("page") or "")
    return redirect(f"{url}?page={page}" if page.isdigit() else url)


def device_view(view):
    """A signed-in device account that may post registrations (checked before anything
    else, so a refused user gets 403 whatever the method)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        _require(request)
        return view(request, *args, **kwargs)

    return wrapper


def terminal_view(view):
    """Device account with the permission, an active terminal from the URL."""

    @device_view
    @wraps(view)
    def wrapper(request, code, *args, **kwargs):
        return view(request, _terminal(request, code), *args, **kwargs)

    return wrapper


def worker_view(view):
    """terminal_view, and a worker signed in (else back to the sign-in screen)."""

    @terminal_view
    @wraps(view)
    def wrapper(request, terminal, *args, **kwargs):
        worker = _worker(request, terminal, touch=True)
        if worker is None:
            if not getattr(request, "terminal_idle_sign_out", False):
                messages.warning(request, "Sign in with your badge first.")
            return _screen(terminal)
        return view(request, terminal, worker, *args, **kwargs)

    return wrapper


# --- Posting a registration --------------------------------------------------------------


def _register(request, terminal, worker, registration_uuid, kind: str, what: str, **fields):
    """Post one registration through the service; the outcome becomes the banner. Returns
    the accepted rows, or None when the service refused (its message is shown)."""
    data = RegistrationInput(
        uuid=registration_uuid,
        kind=kind,
        occurred_at=timezone.now(),
        worker=worker,
        terminal=terminal,
        resource=terminal.resource,
        **fields,
    )
    # The same sender rules as over the API: this terminal's jobs and site, this worker.
    sender = Sender(terminal=terminal, browser=True, signed_in=worker)
    try:
        data = sender_check(sender=sender, data=data)
        accepted = registration_accept(
            data=data, source=sender.source, actor=Actor(user=request.user)
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return None
    if accepted.replayed:
        first = accepted.registrations[0]
        if first.worker_id not in (None, worker.pk):
            # A UUID of someone else's registration: nothing was stored for this worker.
            messages.error(request, "This screen was out of date: nothing registered, try again.")
            return None
        # A second tap on the same form: already registered the first time.
        messages.success(request, f"Registered: {what} (already received).")
    else:
        messages.success(request, f"Registered: {what}.")
    return accepted


def _simple(request, terminal, worker, kind: str, what: str, **fields):
    """A one-tap action from the main screen (a form with only its UUID)."""
    form = RegistrationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The screen was out of date: nothing registered, try again.")
    else:
        _register(
            request, terminal, worker, form.cleaned_data["registration_uuid"], kind, what, **fields
        )
    return _screen(terminal, page=request.POST.get("page"))


# --- Pages --------------------------------------------------------------------------------


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
    worker = _worker(request, terminal, touch="check" not in request.GET)
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
        return _screen(terminal)
    try:
        worker = worker_check_pin(
            badge_id=form.cleaned_data["badge_id"], pin=form.cleaned_data["pin"]
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return _screen(terminal)
    if worker is None:
        messages.error(request, "Badge or PIN not recognized. Try again.")
        return _screen(terminal)
    request.session.cycle_key()  # a new worker, a new session key
    request.session[WORKER_KEY] = {"id": worker.pk, "terminal": terminal.pk, "seen": time.time()}
    messages.success(request, f"Hello, {worker.name}.")
    return _screen(terminal)


@terminal_view
@require_POST
def sign_out(request, terminal):
    """ "Done": the worker leaves the terminal; the device stays signed in."""
    data = request.session.pop(WORKER_KEY, None)
    if data:
        messages.success(request, "Signed out. See you.")
    return _screen(terminal)


@terminal_view
@require_GET
def recent(request, terminal):
    """The worker's last registrations and their processing status (polled by htmx)."""
    worker = _worker(request, terminal, touch=False)
    if worker is None:
        # Idle or signed out elsewhere: the whole screen goes back to the sign-in.
        url = reverse("terminal:terminal", args=[terminal.code])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return render(
        request,
        "terminal/_recent.html",
        {"terminal": terminal, "recent": worker_recent_registrations(worker=worker)},
    )


# --- One-tap actions ----------------------------------------------------------------------


@worker_view
@require_POST
def clock_in(request, terminal, worker):
    return _simple(request, terminal, worker, K.CLOCK_IN, "clock in")


@worker_view
@require_POST
def clock_out(request, terminal, worker):
    return _simple(request, terminal, worker, K.CLOCK_OUT, "clock out")


@worker_view
@require_POST
def break_start(request, terminal, worker):
    return _simple(request, terminal, worker, K.BREAK_START, "break started")


@worker_view
@require_POST
def break_stop(request, terminal, worker):
    return _simple(request, terminal, worker, K.BREAK_STOP, "break ended")


@worker_view
@require_POST
def indirect_stop(request, terminal, worker):
    return _simple(request, terminal, worker, K.INDIRECT_STOP, "indirect activity stopped")


def _jobs():
    return Job.objects.select_related("order__item", "order__unit", "resource")


@worker_view
@require_http_methods(["GET", "POST"])
def job_start(request, terminal, worker, job_id):
    """The start form: the quantity to start, the rest of the job by default. A post
    without a quantity starts the rest (as over the API)."""
    # Only jobs of this terminal's resource start here; the service decides the rest.
    job = get_object_or_404(_jobs(), pk=job_id, resource=terminal.resource)
    # The door's own figures (accepted registrations included): the form offers what the
    # service will accept.
    limits = job_limits(job=job)
    unit = job.order.unit.code
    form = StartForm(
        request.POST or None,
        initial={"page": request.GET.get("page")},
        job=job,
        rest=limits.rest,
        startable=limits.startable,
        unit=unit,
    )
    if request.method == "POST" and form.is_valid():
        quantity = form.cleaned_data.get("quantity")
        what = f"job {job} started"
        if quantity is not None and job.kind == JobKind.PROCESS:
            what += f" ({show(quantity)} {unit})"
        if _register(
            request,
            terminal,
            worker,
            form.cleaned_data["registration_uuid"],
            K.START_JOB,
            what,
            job=job,
            quantity=quantity,
        ):
            return _screen(terminal, page=form.cleaned_data.get("page"))
    return _form_page(
        request,
        terminal,
        worker,
        form,
        title="Start job",
        submit="Start",
        job=job,
        figures={**_figures(job), "started": show(limits.started)},
        starting=True,
    )


@worker_view
@require_POST
def job_stop(request, terminal, worker, job_id):
    job = get_object_or_404(_jobs(), pk=job_id)
    return _simple(request, terminal, worker, K.STOP_JOB, f"job {job} stopped", job=job)


@worker_view
@require_POST
def bundle_start(request, terminal, worker):
    form = BundleForm(request.POST, jobs=_jobs().filter(resource=terminal.resource))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _screen(terminal, page=request.POST.get("page"))
    jobs = sorted(form.cleaned_data["jobs"], key=lambda job: (job.sequence, job.pk))
    _register(
        request,
        terminal,
        worker,
        form.cleaned_data["registration_uuid"],
        K.BUNDLE,
        f"{len(jobs)} jobs started together ({', '.join(str(job) for job in jobs)})",
        jobs=jobs,
    )
    return _screen(terminal, page=request.POST.get("page"))


# --- Actions with a form of their own -----------------------------------------------------


def _figures(job: Job) -> dict:
    return {
        "good": show(job.quantity_good),
        "scrap": show(job.quantity_scrapped),
        "planned": show(job.planned_quantity),
    }


def _form_page(request, terminal, worker, form, *, title: str, submit: str, job=None, **extra):
    return render(
        request,
        "terminal/form.html",
        {
            "terminal": terminal,
            "worker": worker,
            "form": form,
            "title": title,
            "submit": submit,
            "job": job,
            "idle_seconds": idle_seconds(),
            **extra,
        },
    )


@worker_view
@require_http_methods(["GET", "POST"])
def absence(request, terminal, worker):
    form = AbsenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code, minutes = form.cleaned_data["absence_code"], form.cleaned_data["absence_minutes"]
        if _register(
            request,
            terminal,
            worker,
            form.cleaned_data["registration_uuid"],
            K.ABSENCE,
            f"absence {code.code} ({code.description}), {show(minutes)} min",
            absence_code=code,
            absence_minutes=minutes,
        ):
            return _screen(terminal)
    return _form_page(request, terminal, worker, form, title="Absence", submit="Register absence")


@worker_view
@require_http_methods(["GET", "POST"])
def indirect_start(request, terminal, worker):
    form = IndirectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        activity = form.cleaned_data["indirect_activity"]
        if _register(
            request,
            terminal,
            worker,
            form.cleaned_data["registration_uuid"],
            K.INDIRECT_START,
            f"{activity.description} started",
            indirect_activity=activity,
        ):
            return _screen(terminal)
    return _form_page(
        request, terminal, worker, form, title="Indirect activity", submit="Start activity"
    )


@worker_view
@require_http_methods(["GET", "POST"])
def progress(request, terminal, worker, job_id):
    job = get_object_or_404(_jobs(), pk=job_id)
    form = ProgressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = job.order.unit.code
        if _register(
            request,
            terminal,
            worker,
            data["registration_uuid"],
            K.REPORT_PROGRESS,
            f"{show(data['quantity_good'])} {unit} good, "
            f"{show(data['quantity_scrap'])} {unit} scrap on {job}",
            job=job,
            quantity_good=data["quantity_good"],
            quantity_scrap=data["quantity_scrap"],
            reason_code=data["reason_code"],
            stops_job=data["stops_job"],
            completes_job=data["completes_job"],
        ):
            return _screen(terminal)
    return _form_page(
        request,
        terminal,
        worker,
        form,
        title="Report progress",
        submit="Report",
        job=job,
        figures=_figures(job),
    )


@worker_view
@require_http_methods(["GET", "POST"])
def finish(request, terminal, worker, job_id):
    """Report as finished on the job's order (lot or serial number for tracked items), from
    its last operation: what that operation output is what is finished."""
    job = get_object_or_404(_jobs(), pk=job_id, kind=JobKind.PROCESS)
    order = job.order
    if last_operations([order.pk]).get(order.pk) != job.operation_number:
        raise Http404("Report as finished is made at the order's last operation.")
    tracking = order.item.tracking
    form = FinishForm(request.POST or None, tracked=tracking != Tracking.NONE)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        lot = data.get("lot_number", "")
        if _register(
            request,
            terminal,
            worker,
            data["registration_uuid"],
            K.REPORT_AS_FINISHED,
            f"{show(data['quantity_good'])} {order.unit.code} of {order.item.part_number} "
            f"finished on order {order.number}" + (f", lot {lot}" if lot else ""),
            order=order,
            job=job,
            quantity_good=data["quantity_good"],
            quantity_scrap=data["quantity_scrap"],
            reason_code=data["reason_code"],
            lot_number=lot,
        ):
            return _screen(terminal)
    return _form_page(
        request,
        terminal,
        worker,
        form,
        title="Report as finished",
        submit="Report as finished",
        job=job,
        figures={
            "good": show(order.quantity_completed),
            "scrap": show(order.quantity_scrapped),
            "planned": show(order.quantity),
        },
        tracking=tracking if tracking != Tracking.NONE else "",
        finishing=True,
    )
