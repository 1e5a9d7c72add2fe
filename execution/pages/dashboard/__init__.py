"""The supervisors' dashboard (/dashboard/): its view, form, reads, charts and urls."""
