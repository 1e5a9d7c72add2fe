"""API throttling: one budget per caller, at the rate of its role (settings.MES_API_THROTTLE_RATES).

A scale unit forwards a whole plant's registrations and the ERP sends work orders in bursts:
they get the highest rates; a terminal's own token the rate of one device; a shared operator
account the rate of the terminals that share it; anonymous callers (nothing but a 401 to get)
the lowest. A throttled call answers 429 with the uniform error body and Retry-After.
"""

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

ANONYMOUS = "anon"
SCALE_UNIT = "scale-unit"
TERMINAL = "terminal"
OTHER = "user"
# The role groups with a rate of their own, first match wins (mesproject/roles.py).
GROUP_ROLES = ("erp-integration", "operator")


def api_role(user) -> str:
    """The key of the caller's rate in settings.MES_API_THROTTLE_RATES."""
    if not (user and user.is_authenticated):
        return ANONYMOUS
    # The accounts of scale units and terminals are known by the relation their record
    # gives them (integration's ScaleUnit.user, execution's Terminal.user).
    if getattr(user, "scale_unit", None) is not None:
        return SCALE_UNIT
    if getattr(user, "terminal", None) is not None:
        return TERMINAL
    groups = set(user.groups.values_list("name", flat=True))
    return next((role for role in GROUP_ROLES if role in groups), OTHER)


class RoleRateThrottle(SimpleRateThrottle):
    """Each caller's requests per period, at its role's rate (read on every call, so a
    setting changed in a test or a deploy applies at once)."""

    def __init__(self):
        pass  # the rate depends on the caller: chosen in allow_request

    def allow_request(self, request, view) -> bool:
        self.scope = api_role(request.user)
        self.rate = settings.MES_API_THROTTLE_RATES.get(self.scope)
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache (Redis) is down: serve the call rather than fail it
            logger.warning("API throttle skipped: the cache is unreachable", exc_info=True)
            return True

    def get_cache_key(self, request, view) -> str:
        user = request.user
        ident = user.pk if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
