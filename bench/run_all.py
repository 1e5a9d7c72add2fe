"""The entry point of every bench in one run (make bench):

    .venv/bin/python bench/run_all.py [--quick] [--only reconciliation,list_pages] [--show]

The runner itself is the bench/run_all/ package; its docstring says what it runs and writes.
"""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

from run_all.main import main  # noqa: E402

if __name__ == "__main__":
    main()
