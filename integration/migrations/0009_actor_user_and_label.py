"""Who acted is kept the same way everywhere (mesproject.actors): the user (<role>) and the
label (<role>_actor). The label columns keep their data under their new names; the user is
filled in from a "user:<username>" label, and a decided change request's label from its user."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

LABELS = [
    ("receivedpackage", "handled_by"),
    ("outboxmessage", "canceled_by"),
    ("outboxfix", "fixed_by"),
    ("changerequest", "requested_by"),
    ("forcecloserequest", "requested_by"),
]


def user_field():
    return models.ForeignKey(
        blank=True,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to=settings.AUTH_USER_MODEL,
    )


def fill_users(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    users = {}
    for model_name, role in LABELS:
        model = apps.get_model("integration", model_name)
        labelled = model.objects.filter(**{f"{role}_actor__startswith": "user:"})
        for pk, label in labelled.values_list("pk", f"{role}_actor"):
            name = label.removeprefix("user:")
            if name not in users:
                users[name] = User.objects.filter(username=name).values_list("pk", flat=True).first()
            if users[name] is not None:
                model.objects.filter(pk=pk).update(**{f"{role}_id": users[name]})
    ChangeRequest = apps.get_model("integration", "ChangeRequest")
    for request in ChangeRequest.objects.filter(decided_by__isnull=False).select_related(
        "decided_by"
    ):
        ChangeRequest.objects.filter(pk=request.pk).update(
            decided_by_actor=f"user:{request.decided_by.username}"
        )


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("integration", "0008_change_request_status_fsm"),
    ]

    operations = [
        *[
            migrations.RenameField(model_name, role, f"{role}_actor")
            for model_name, role in LABELS
        ],
        *[
            migrations.AlterField(
                model_name=model_name,
                name=f"{role}_actor",
                field=models.CharField(blank=True, max_length=150),
            )
            for model_name, role in LABELS
        ],
        *[
            migrations.AddField(model_name=model_name, name=role, field=user_field())
            for model_name, role in LABELS
        ],
        migrations.AddField(
            model_name="changerequest",
            name="decided_by_actor",
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.RunPython(fill_users, migrations.RunPython.noop),
    ]
