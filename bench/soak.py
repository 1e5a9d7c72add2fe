"""The soak's entry point (make soak; .ci/run runs it with --ci):

    .venv/bin/python bench/soak.py [--seconds 600] [--ci] [--help]

The soak itself is the bench/soak/ package; its docstring says what it runs and checks.
"""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from soak.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
