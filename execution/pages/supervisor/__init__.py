"""The supervisor's pages (/supervisor/): the operational plan, the live floor, attendance."""
