"""Admin bases every app shares (not an app's admin module: nothing registers here)."""

from django.contrib import admin


class ReadOnly:
    """Viewed, filtered and searched in the admin, never added, changed or deleted there:
    services write these rows (ledgers, journals, logs, messages)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    pass
