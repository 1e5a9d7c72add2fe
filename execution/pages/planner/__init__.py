"""The planner's pages (/planner/): production orders, their page, form and CSV export."""
