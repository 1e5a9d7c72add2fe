"""The work-order HTTP bench's entry point (bench/run_all.py runs it):

    .venv/bin/python bench/work_orders_http.py [--requests 2000] [--concurrency 8] [--help]

The bench itself is the bench/work_orders_http/ package; its docstring says what it does.
"""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from work_orders_http.main import main  # noqa: E402

if __name__ == "__main__":
    main()
