"""execution in the admin. Journals are written by the processor only: their admins are
read-only; registrations change only through the services (Process again, Cancel).

Django's autodiscovery imports this package: each module registers its models.
"""

from . import (  # noqa: F401
    attendance,
    jobs,
    journals,
    master_data,
    production_orders,
    registrations,
)
