from rest_framework.permissions import BasePermission


class HasPerms(BasePermission):
    """The model permissions a view lists per HTTP method (`required_perms`), checked on the
    server for every call: the ERP's group has them, an operator's token does not."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        needed = view.required_perms.get(request.method, ())
        return bool(needed) and user.has_perms(needed)
