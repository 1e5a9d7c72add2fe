"""IT pages in the browser: the outbox and its dead-letter queue, the messages of one order
(an htmx fragment for the planner's order page), idempotency keys, and the progress of long
jobs started from a page.

Server-rendered; permissions are checked here on the server: the outbox needs
integration.view_outboxmessage to look and integration.change_outboxmessage to retry, fix
or cancel (IT and supervisors); keys need integration.view_idempotencykey (read-only); a
job's progress needs the permission that starting it took. Every change goes through
integration/erp/services/outbox.py, as the admin's actions do.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integration.choices import OPEN_MESSAGE_STATUSES, MessageStatus
from integration.erp.pages.filters import IdempotencyKeyFilter, OutboxFilter
from integration.erp.pages.forms import FixPayloadForm
from integration.erp.selectors import dead_letters_before, held, with_held
from integration.erp.services.outbox import outbox_cancel, outbox_fix, outbox_retry
from integration.models import IdempotencyKey, OutboxMessage
from mesproject.actors import Actor
from mesproject.background_tasks import task_get
from mesproject.errors import ApplicationError
from mesproject.forms import selected_ids
from mesproject.models import BackgroundTask
from orders.models import ProductionOrder

PAGE_SIZE = 50
VIEW_OUTBOX = "integration.view_outboxmessage"
CHANGE_OUTBOX = "integration.change_outboxmessage"
VIEW_KEYS = "integration.view_idempotencykey"
VIEW_ORDER = "orders.view_productionorder"
# Messages of the stream shown around one message, and on an order's page.
NEIGHBOURS = 5
ORDER_MESSAGES = 20
MAX_BODY_CHARS = 20_000
# The latest background tasks listed (a record per button press: a handful a day).
TASKS_LISTED = 100


def _back(request, default: str):
    """Where the user came from (the filtered, paged list), when it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


# --- Outbox and dead-letter queue -------------------------------------------------------------


@login_required
@require_GET
@permission_required(VIEW_OUTBOX, raise_exception=True)
def outbox(request):
    filters = OutboxFilter(
        request.GET,
        # The payload can be a whole CSV (pay basis): the list never loads it.
        queryset=with_held(OutboxMessage.objects.defer("payload")).order_by("-created_at", "-id"),
    )
    rows = filters.qs
    counts = OutboxMessage.objects.filter(status__in=OPEN_MESSAGE_STATUSES).aggregate(
        dead=Count("id", filter=Q(status=MessageStatus.DEAD_LETTER)),
        held=Count("id", filter=held()),
        pending=Count("id", filter=Q(status=MessageStatus.PENDING)),
    )
    return render(
        request,
        "it/outbox.html",
        {
            "filters": filters.form,
            "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "counts": counts,
            "can_act": request.user.has_perm(CHANGE_OUTBOX),
            "DEAD_LETTER": MessageStatus.DEAD_LETTER,
        },
    )


def _message_context(request, message: OutboxMessage, fix_form=None) -> dict:
    stream = with_held(OutboxMessage.objects.filter(stream=message.stream).defer("payload"))
    earlier = list(stream.filter(sequence__lt=message.sequence).order_by("-sequence")[:NEIGHBOURS])
    later = list(stream.filter(sequence__gt=message.sequence).order_by("sequence")[:NEIGHBOURS])
    around = stream.aggregate(
        earlier=Count("id", filter=Q(sequence__lt=message.sequence)),
        later=Count("id", filter=Q(sequence__gt=message.sequence)),
    )
    held_by = (
        dead_letters_before(stream=message.stream, sequence=message.sequence)
        .order_by("sequence")
        .only("id", "stream", "sequence", "kind", "status")
        .first()
        if message.status == MessageStatus.PENDING
        else None
    )
    is_dead = message.status == MessageStatus.DEAD_LETTER
    can_act = request.user.has_perm(CHANGE_OUTBOX)
    if fix_form is None and is_dead and can_act:
        fix_form = FixPayloadForm(initial={"payload": message.payload})
    return {
        "message": message,
        "body": json.dumps(message.payload, indent=2, sort_keys=True, ensure_ascii=False),
        "earlier": list(reversed(earlier)),
        "later": later,
        "around": around,
        "held_by": held_by,
        "can_act": can_act and is_dead,
        "is_open": message.status in OPEN_MESSAGE_STATUSES,
        "fix_form": fix_form,
        "fixes": [
            (fix, json.dumps(fix.payload_before, indent=2, sort_keys=True, ensure_ascii=False))
            for fix in message.fixes.all()
        ],
        "order_link": (
            reverse("planner:order_detail", args=[message.order_id])
            if message.order_id and request.user.has_perm(VIEW_ORDER)
            else ""
        ),
    }


@login_required
@require_GET
@permission_required(VIEW_OUTBOX, raise_exception=True)
def outbox_message(request, pk: int):
    message = get_object_or_404(OutboxMessage, pk=pk)
    return render(request, "it/outbox_message.html", _message_context(request, message))


def _message_action(request, pk: int, action, done: str):
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        action(message)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{message}: {done}")
    return _back(request, reverse("it:outbox_message", args=[pk]))


@login_required
@require_POST
@permission_required(CHANGE_OUTBOX, raise_exception=True)
def outbox_message_retry(request, pk: int):
    return _message_action(
        request,
        pk,
        lambda m: outbox_retry(message=m),
        "it will be sent again now; the messages it held follow in their order.",
    )


@login_required
@require_POST
@permission_required(CHANGE_OUTBOX, raise_exception=True)
def outbox_message_cancel(request, pk: int):
    actor = Actor(user=request.user)
    return _message_action(
        request,
        pk,
        lambda m: outbox_cancel(message=m, actor=actor),
        "canceled (kept, never sent); the messages it held go on.",
    )


@login_required
@require_http_methods(["POST"])
@permission_required(CHANGE_OUTBOX, raise_exception=True)
def outbox_message_fix(request, pk: int):
    message = get_object_or_404(OutboxMessage, pk=pk)
    form = FixPayloadForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The payload was not saved: it is not a valid JSON object.")
        context = _message_context(request, message, fix_form=form)
        return render(request, "it/outbox_message.html", context, status=400)
    try:
        outbox_fix(
            message=message,
            payload=form.cleaned_data["payload"],
            actor=Actor(user=request.user),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{message}: payload fixed; it will be sent again now.")
    return redirect("it:outbox_message", pk=pk)


@login_required
@require_POST
@permission_required(CHANGE_OUTBOX, raise_exception=True)
def outbox_retry_selected(request):
    """Bulk retry of the ticked dead letters, in stream order; each refusal reported."""
    ids = selected_ids(request.POST.getlist("message"))
    if not ids:
        messages.warning(request, "Select at least one message.")
        return _back(request, reverse("it:outbox"))
    done = 0
    for message in (
        OutboxMessage.objects.filter(pk__in=ids).defer("payload").order_by("stream", "sequence")
    ):
        try:
            outbox_retry(message=message)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            done += 1
    if done:
        messages.success(request, f"{done} message(s) will be sent again now.")
    return _back(request, reverse("it:outbox"))


@require_GET
# A fragment: 403, not a redirect to sign in (htmx would put the login page inside the host
# page; on a 403 it swaps nothing), so no login_required here.
@permission_required(VIEW_OUTBOX, raise_exception=True)
def order_messages(request, order_id: int):
    """Fragment for the order's page (hx-get, hx-trigger="load"): its stream's messages."""
    order = get_object_or_404(ProductionOrder.objects.only("id", "number"), pk=order_id)
    rows = with_held(OutboxMessage.objects.filter(stream=order.number).defer("payload"))
    counts = rows.aggregate(
        total=Count("id"), dead=Count("id", filter=Q(status=MessageStatus.DEAD_LETTER))
    )
    return render(
        request,
        "it/order_messages.html",
        {
            "order": order,
            "rows": list(rows.order_by("-sequence")[:ORDER_MESSAGES]),
            "counts": counts,
            "shown": ORDER_MESSAGES,
        },
    )


# --- Idempotency keys -------------------------------------------------------------------------


@login_required
@require_GET
@permission_required(VIEW_KEYS, raise_exception=True)
def idempotency_keys(request):
    filters = IdempotencyKeyFilter(
        request.GET,
        queryset=IdempotencyKey.objects.select_related("user")
        .defer("response_body")
        .order_by("-created_at", "-id"),
    )
    rows = filters.qs
    return render(
        request,
        "it/idempotency_keys.html",
        {
            "filters": filters.form,
            "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        },
    )


def _stored_body(key: IdempotencyKey) -> str:
    body = bytes(key.response_body)
    try:
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        text = body.decode(errors="replace")
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "\n…(cut)"


@login_required
@require_GET
@permission_required(VIEW_KEYS, raise_exception=True)
def idempotency_key(request, pk: int):
    key = get_object_or_404(IdempotencyKey.objects.select_related("user"), pk=pk)
    return render(request, "it/idempotency_key.html", {"key": key, "body": _stored_body(key)})


# --- Progress of long jobs --------------------------------------------------------------------


def _task(request, task_id: str):
    task = task_get(task_id)
    if task is None:
        raise Http404("No such task: only tasks started from a page can be followed.")
    # A fragment answers 403 rather than a redirect to sign in: htmx would put the login
    # page inside the host page; on a 403 it swaps nothing.
    if not request.user.has_perm(task.permission):
        raise PermissionDenied
    return task


@login_required
@require_GET
def task_progress(request, task_id: str):
    task = _task(request, task_id)
    return render(request, "it/task_progress.html", {"task": task})


@require_GET
def task_progress_status(request, task_id: str):
    """The polled fragment: counts, text and, once finished, what the task did."""
    task = _task(request, task_id)
    return render(request, "it/task_progress_fragment.html", {"task": task})


@login_required
@require_GET
def task_list(request):
    """The background tasks started from pages, newest first: those this person may follow."""
    tasks = [
        task
        for task in BackgroundTask.objects.all()[:TASKS_LISTED]
        if request.user.has_perm(task.permission)
    ]
    return render(request, "it/tasks.html", {"tasks": tasks, "listed": TASKS_LISTED})
