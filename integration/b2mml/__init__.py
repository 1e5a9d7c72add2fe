"""B2MML (ISA-95) documents: the ERP's schedule in (schedule.py), an order's actuals out
(performance.py), the official XSDs the export validates against (schemas/), the import as a
service (services.py) and both over HTTP (api.py).
"""

NAMESPACE = "http://www.mesa.org/xml/B2MML"
MAX_BYTES = 5 * 1024 * 1024
