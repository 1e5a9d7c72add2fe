"""Supervisor pages in the browser: the processing log of shop-floor registrations.

Server-rendered, no JavaScript needed. Every change goes through the services (Process again,
Cancel, the processor itself); permissions are checked here on the server: viewing needs
execution.view_rawregistration, acting needs execution.change_rawregistration.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from mesproject.actors import Actor
from mesproject.background_tasks import TaskNotStarted, task_start
from mesproject.errors import ApplicationError
from mesproject.forms import selected_ids

from ...choices import RegistrationStatus
from ...models import RawRegistration
from ...services.correction_checks import CORRECTABLE_KINDS
from ...services.processing import registration_cancel, registration_process_again
from ...tasks import process_pending_now
from ..corrections import CORRECT_PERMISSION, corrected_flag
from .filters import ProcessingLogFilter

PAGE_SIZE = 50
VIEW_PERMISSION = "execution.view_rawregistration"
CHANGE_PERMISSION = "execution.change_rawregistration"
PROCESS_AGAIN, CANCEL = "process_again", "cancel"
# Registrations a supervisor can still act on.
OPEN_STATUSES = (RegistrationStatus.NEW, RegistrationStatus.FAILED)


def registrations_act(request, registrations, action: str, *, reason: str = "") -> None:
    """Process again or cancel each registration through its service: successes counted in
    one message, every refusal reported with its reason. The admin uses it too."""
    actor = Actor(user=request.user)
    done = 0
    for registration in registrations:
        try:
            if action == PROCESS_AGAIN:
                registration_process_again(registration=registration, actor=actor)
            else:
                registration_cancel(registration=registration, actor=actor, reason=reason)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            done += 1
    if done:
        what = "queued to process again" if action == PROCESS_AGAIN else "canceled"
        messages.success(request, f"{done} registration(s) {what}.")


@login_required
@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def processing_log(request):
    filters = ProcessingLogFilter(
        request.GET,
        queryset=corrected_flag(
            RawRegistration.objects.select_related("worker", "order", "job__order", "corrects")
        ).order_by("-occurred_at", "-id"),
    )
    registrations = filters.qs
    page = Paginator(registrations, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    counts = dict(
        RawRegistration.objects.filter(status__in=OPEN_STATUSES)
        .values_list("status")
        .annotate(count=Count("id"))
        .order_by()
    )
    return render(
        request,
        "execution/processing_log.html",
        {
            "filters": filters.form,
            "page": page,
            "query": query.urlencode(),
            "can_act": request.user.has_perm(CHANGE_PERMISSION),
            "can_correct": request.user.has_perm(CORRECT_PERMISSION),
            "CORRECTABLE": [str(k) for k in CORRECTABLE_KINDS],
            "PROCESSED": RegistrationStatus.PROCESSED,
            "failed_count": counts.get(RegistrationStatus.FAILED, 0),
            "new_count": counts.get(RegistrationStatus.NEW, 0),
            "FAILED": RegistrationStatus.FAILED,
            "OPEN_STATUSES": [str(s) for s in OPEN_STATUSES],
        },
    )


def _back(request):
    """Where the user came from (the filtered, paged list), when it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reverse("floor:processing_log"))


def _selected(request) -> list[int]:
    """The row whose button was pressed ("only"), else the ticked rows ("registration")."""
    only = request.POST.get("only", "")
    values = [only] if only else request.POST.getlist("registration")
    return selected_ids(values)


def _act(request, action: str):
    ids = _selected(request)
    if not ids:
        messages.warning(request, "Select at least one registration.")
        return _back(request)
    registrations = RawRegistration.objects.filter(pk__in=ids).order_by("occurred_at", "id")
    registrations_act(request, registrations, action, reason=request.POST.get("reason", "").strip())
    return _back(request)


@login_required
@require_POST
@permission_required(CHANGE_PERMISSION, raise_exception=True)
def registrations_process_again(request):
    return _act(request, PROCESS_AGAIN)


@login_required
@require_POST
@permission_required(CHANGE_PERMISSION, raise_exception=True)
def registrations_cancel(request):
    return _act(request, CANCEL)


@login_required
@require_POST
@permission_required(CHANGE_PERMISSION, raise_exception=True)
def registrations_process_pending(request):
    """Run the processor now (what beat does every minute) in a worker, and send the person
    to its progress page: a long backlog must not hold the request."""
    try:
        task = task_start(
            process_pending_now,
            label="Processing pending registrations",
            permission=CHANGE_PERMISSION,
            user=request.user,
        )
    except TaskNotStarted:
        messages.error(
            request,
            "The processing run could not be started: the job queue is not reachable. "
            "Beat runs the processor every minute once it is back.",
        )
        return _back(request)
    try:
        # By name: the progress page belongs to the IT pages (integration), above execution.
        return redirect(reverse("it:task_progress", args=[task.task_id]))
    except NoReverseMatch:
        messages.info(request, "Processing started; the log fills as it goes.")
        return _back(request)
