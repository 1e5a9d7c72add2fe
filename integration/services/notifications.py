"""In-app alerts for a role, with a log line and, when configured, an e-mail."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Notification

logger = logging.getLogger("mes.alerts")


def notify(
    *,
    kind: str,
    roles: list[str],
    title: str,
    text: str = "",
    link: str = "",
    dedup_key: str = "",
    level: int = logging.WARNING,
) -> list[Notification]:
    """One notification per role (an existing one with the same dedup key is kept)."""
    created = []
    for role in roles:
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        kind=kind,
                        role=role,
                        title=title[:200],
                        text=text,
                        link=link[:300],
                        dedup_key=dedup_key[:120],
                        created_at=timezone.now(),
                    )
                )
        except IntegrityError:
            continue  # already raised for this key: one alert, not one per retry
    if created:
        logger.log(level, "%s: %s %s", kind, title, text)
        if settings.EMAIL_HOST and settings.MES_ALERT_EMAILS:
            # After commit: a rolled-back alert must not have been mailed.
            transaction.on_commit(
                lambda: send_mail(
                    f"[MES] {title}", f"{text}\n{link}", None, settings.MES_ALERT_EMAILS
                )
            )
    return created


def notifications_for(user):
    """What a user may see: the notifications of the roles (groups) they belong to."""
    roles = list(user.groups.values_list("name", flat=True))
    return Notification.objects.filter(role__in=roles)


def unread_count(user) -> int:
    """The header's badge: one query, whatever the number of roles or notifications."""
    return (
        Notification.objects.filter(role__in=user.groups.values("name"))
        .exclude(read_by=user)
        .count()
    )


def notification_mark_read(*, notification: Notification, user) -> None:
    notification.read_by.add(user)
