"""The registrations bench's entry point (bench/run_all.py runs it; the timed processors are
this script with --child):

    .venv/bin/python bench/registrations.py [--registrations 100000] [--orders 1000] [--help]

The bench itself is the bench/registrations/ package; its docstring says what it measures.
"""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from registrations.main import main  # noqa: E402

if __name__ == "__main__":
    main()
