"""The processing log of shop-floor registrations (/floor/): list, Process again, Cancel,
Process pending now; its correction page is execution.pages.corrections."""
