"""Posting a registration from the terminal, exactly as the API does (the same sender rules
and registration_accept), with its outcome as the banner; and what the action pages share."""

from django.contrib import messages
from django.shortcuts import render
from django.utils import timezone

from inventory.fields import show
from mesproject.errors import ApplicationError

from ...models import Job
from ...services.registrations import RegistrationInput, registration_accept
from ...services.senders import Sender, sender_check
from .forms import RegistrationForm
from .session import idle_seconds, to_screen


def register(request, terminal, worker, registration_uuid, kind: str, what: str, **fields):
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
        accepted = registration_accept(data=data, source=sender.source)
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


def one_tap(request, terminal, worker, kind: str, what: str, **fields):
    """A one-tap action from the main screen (a form with only its UUID)."""
    form = RegistrationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The screen was out of date: nothing registered, try again.")
    else:
        register(
            request, terminal, worker, form.cleaned_data["registration_uuid"], kind, what, **fields
        )
    return to_screen(terminal, page=request.POST.get("page"))


def terminal_jobs():
    """Jobs with the order, item, unit and resource the action pages show."""
    return Job.objects.select_related("order__item", "order__unit", "resource")


def job_figures(job: Job) -> dict:
    return {
        "good": show(job.quantity_good),
        "scrap": show(job.quantity_scrapped),
        "planned": show(job.planned_quantity),
    }


def form_page(request, terminal, worker, form, *, title: str, submit: str, job=None, **extra):
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
