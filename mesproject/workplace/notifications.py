"""What reaches people, under /notifications/: the notifications of the signed-in user's roles (DLQ
alerts, reconciliation flags, change requests), newest first, unread ones marked, read on
demand; and the ERP's change requests (integration/erp/pages/change_requests.py). The
integration raises the notifications (integration.services.notifications.notify); this page
reads them."""

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from integration.models import Notification
from integration.services.notifications import notification_mark_read, notifications_for
from mesproject.forms import selected_ids

PAGE_SIZE = 50


def _with_read_flag(user):
    read = Notification.read_by.through.objects.filter(
        notification_id=OuterRef("pk"), user_id=user.pk
    )
    return notifications_for(user).annotate(is_read=Exists(read))


class NotificationFilter(django_filters.FilterSet):
    """`?unread=1`: only those the user has not read yet."""

    unread = django_filters.CharFilter(method="filter_unread")

    class Meta:
        model = Notification
        fields = ["unread"]

    def filter_unread(self, queryset, name, value):
        return queryset.filter(is_read=False) if value else queryset


@login_required
@require_GET
def notification_list(request):
    filters = NotificationFilter(request.GET, queryset=_with_read_flag(request.user))
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "workplace/notifications.html",
        {"page": page, "unread_only": bool(request.GET.get("unread"))},
    )


@login_required
@require_POST
def notifications_mark_read(request):
    """Marks the chosen notifications (or, with `all`, every unread one) as read."""
    notifications = _with_read_flag(request.user).filter(is_read=False)
    if not request.POST.get("all"):
        ids = selected_ids(request.POST.getlist("notification"))
        notifications = notifications.filter(pk__in=ids)
    count = 0
    for notification in notifications:
        notification_mark_read(notification=notification, user=request.user)
        count += 1
    messages.success(request, f"{count} notification(s) marked as read.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "notifications:list"
    return redirect(target)


app_name = "notifications"

urlpatterns = [
    path("", notification_list, name="list"),
    path("read/", notifications_mark_read, name="read"),
]
