"""The product's roles: the names of their Django groups, and whether a user is in one.

Every app may name a role (the integration notifies the supervisors, the ERP API admits the
ERP integration account); what each role may do is mesproject/workplace/roles.py's.
"""

PLANNER = "planner"
SUPERVISOR = "supervisor"
OPERATOR = "operator"
ERP_INTEGRATION = "erp-integration"
IT = "it"

# Roles that work in the admin (the others use the terminal or the API).
STAFF_ROLES = {PLANNER, SUPERVISOR, IT}


def user_has_role(user, role: str) -> bool:
    """Whether the user is in the role's group (a superuser is in no role by default: the
    ERP API and the page sign-in ask for the group itself)."""
    if not (user and user.is_authenticated):
        return False
    cached = getattr(user, "_mes_roles", None)
    if cached is None:
        # One query per request, whatever the number of checks.
        cached = user._mes_roles = frozenset(user.groups.values_list("name", flat=True))
    return role in cached
