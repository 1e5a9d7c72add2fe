"""Notifications of the signed-in user's roles (DLQ alerts, reconciliation flags, change
requests): newest first, unread ones marked, read on demand."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .models import Notification
from .services.notifications import notification_mark_read, notifications_for

PAGE_SIZE = 50


def _with_read_flag(user):
    read = Notification.read_by.through.objects.filter(
        notification_id=OuterRef("pk"), user_id=user.pk
    )
    return notifications_for(user).annotate(is_read=Exists(read))


@login_required
@require_GET
def notification_list(request):
    notifications = _with_read_flag(request.user)
    if request.GET.get("unread"):
        notifications = notifications.filter(is_read=False)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "integration/notifications.html",
        {"page": page, "unread_only": bool(request.GET.get("unread"))},
    )


@login_required
@require_POST
def notifications_mark_read(request):
    """Marks the chosen notifications (or, with `all`, every unread one) as read."""
    notifications = _with_read_flag(request.user).filter(is_read=False)
    if not request.POST.get("all"):
        notifications = notifications.filter(pk__in=request.POST.getlist("notification"))
    count = 0
    for notification in notifications:
        notification_mark_read(notification=notification, user=request.user)
        count += 1
    messages.success(request, f"{count} notification(s) marked as read.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "inbox:notifications"
    return redirect(target)
