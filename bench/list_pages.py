"""The list pages bench's entry point (bench/run_all.py runs it):

    .venv/bin/python bench/list_pages.py [--small 10] [--large 5000] [--help]

The bench itself is the bench/list_pages/ package; its docstring says what it does.
"""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from list_pages.main import main  # noqa: E402

if __name__ == "__main__":
    main()
