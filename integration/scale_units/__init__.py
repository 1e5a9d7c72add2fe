"""Hub and scale units (docs/scale_units.md): services, pages, admin and tasks."""
