"""The approver's label keeps its data under its new name (approved_by_actor); the next
migration adds the approver as a user (mesproject.actors: the user and the label)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("execution", "0007_processing_log_user"),
    ]

    operations = [
        migrations.RenameField("attendanceday", "approved_by", "approved_by_actor"),
        migrations.RenameField("historicalattendanceday", "approved_by", "approved_by_actor"),
    ]
