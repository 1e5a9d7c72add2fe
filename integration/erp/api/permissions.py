from rest_framework.permissions import BasePermission

from mesproject.errors import Forbidden
from mesproject.roles import ERP_INTEGRATION, user_has_role


class HasPerms(BasePermission):
    """The ERP API: the caller must be of the ERP integration role (a planner's or a
    supervisor's token has the model permissions, but work orders come from the ERP only),
    and have the model permissions the view lists per HTTP method (`required_perms`)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False  # 401: DRF asks for credentials
        if not user_has_role(user, ERP_INTEGRATION):
            raise Forbidden(
                f"The ERP API is for the ERP integration account only (group {ERP_INTEGRATION}).",
                code="erp_role_required",
            )
        needed = view.required_perms.get(request.method, ())
        return bool(needed) and user.has_perms(needed)
