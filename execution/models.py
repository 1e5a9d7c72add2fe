"""Shop-floor execution: workers, terminals, jobs, registrations and journals (issue 4)."""
