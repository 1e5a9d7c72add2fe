"""Time on the terminal: clock in and out, breaks, absence, indirect activities."""

from django.views.decorators.http import require_http_methods, require_POST

from inventory.fields import show

from ...choices import RegistrationKind
from .forms import AbsenceForm, IndirectForm
from .posting import form_page, one_tap, register
from .session import to_screen, worker_view

K = RegistrationKind


@worker_view
@require_POST
def clock_in(request, terminal, worker):
    return one_tap(request, terminal, worker, K.CLOCK_IN, "clock in")


@worker_view
@require_POST
def clock_out(request, terminal, worker):
    return one_tap(request, terminal, worker, K.CLOCK_OUT, "clock out")


@worker_view
@require_POST
def break_start(request, terminal, worker):
    return one_tap(request, terminal, worker, K.BREAK_START, "break started")


@worker_view
@require_POST
def break_stop(request, terminal, worker):
    return one_tap(request, terminal, worker, K.BREAK_STOP, "break ended")


@worker_view
@require_POST
def indirect_stop(request, terminal, worker):
    return one_tap(request, terminal, worker, K.INDIRECT_STOP, "indirect activity stopped")


@worker_view
@require_http_methods(["GET", "POST"])
def absence(request, terminal, worker):
    form = AbsenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code, minutes = form.cleaned_data["absence_code"], form.cleaned_data["absence_minutes"]
        if register(
            request,
            terminal,
            worker,
            form.cleaned_data["registration_uuid"],
            K.ABSENCE,
            f"absence {code.code} ({code.description}), {show(minutes)} min",
            absence_code=code,
            absence_minutes=minutes,
        ):
            return to_screen(terminal)
    return form_page(request, terminal, worker, form, title="Absence", submit="Register absence")


@worker_view
@require_http_methods(["GET", "POST"])
def indirect_start(request, terminal, worker):
    form = IndirectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        activity = form.cleaned_data["indirect_activity"]
        if register(
            request,
            terminal,
            worker,
            form.cleaned_data["registration_uuid"],
            K.INDIRECT_START,
            f"{activity.description} started",
            indirect_activity=activity,
        ):
            return to_screen(terminal)
    return form_page(
        request, terminal, worker, form, title="Indirect activity", submit="Start activity"
    )
