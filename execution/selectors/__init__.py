"""Reads the pages, the admin and the API share, by subject: `floor` (the live floor and the
late orders, for the supervisor's floor page and the dashboard), `shortages` (an order's
shortages at release, for the planner page and the admin), `genealogy` (an order's as-built
record, for the ERP API). Reads one page group alone uses live next to it, in
execution/pages/.

Each reader runs a fixed number of queries, whatever the number of rows.
"""

# integration's ERP API imports it from here.
from .genealogy import order_genealogy

__all__ = ["order_genealogy"]
