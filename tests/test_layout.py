"""The layout DESIGN.md fixes, read from the source with `ast` (no import runs):

- imports point one way: inventory <- orders <- execution <- integration <- the workplace
  (mesproject/workplace/), and the kernel (the rest of mesproject/, which every app imports)
  imports no app;
- a big app is split into sub-packages by subject, never into files named by prefix.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["inventory", "orders", "execution", "integration"]
WORKPLACE = "mesproject.workplace"
# What each part may not import (the parts above it).
FORBIDDEN = {
    "inventory": ["orders", "execution", "integration", WORKPLACE],
    "orders": ["execution", "integration", WORKPLACE],
    "execution": ["integration", WORKPLACE],
    "integration": [WORKPLACE],
    "kernel": [*APPS, WORKPLACE],
}
# mesproject/ outside the kernel: the top of the graph, and the wiring that names every app.
NOT_KERNEL = ["mesproject/workplace/", "mesproject/urls.py", "mesproject/settings/"]
NOT_KERNEL_FILES = ["mesproject/celery.py"]
PREFIXES = ("views_", "urls_", "forms_", "admin_", "tasks_", "selectors_")


def _sources(top: str) -> list[Path]:
    return sorted(p for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts)


def _part(path: Path) -> str | None:
    relative = path.relative_to(ROOT).as_posix()
    top = relative.split("/")[0]
    if top in APPS:
        return top
    if top == "mesproject":
        if relative in NOT_KERNEL_FILES or any(relative.startswith(p) for p in NOT_KERNEL):
            return None
        return "kernel"
    return None


def _module(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imported(path: Path) -> list[tuple[int, list[str]]]:
    """Per import statement: its line and the absolute modules it may load (relative imports
    resolved; `from a import b` may load a or a.b)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module(path) if path.name == "__init__.py" else _module(path)[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.append((node.lineno, [alias.name for alias in node.names]))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, [module, *(f"{module}.{a.name}" for a in node.names)]))
    return found


def _banned(module: str, banned: list[str]) -> bool:
    return any(module == b or module.startswith(b + ".") for b in banned)


def _violations() -> list[str]:
    problems = []
    for top in [*APPS, "mesproject"]:
        for path in _sources(top):
            part = _part(path)
            if part is None:
                continue
            for line, modules in _imported(path):
                wrong = [m for m in modules if _banned(m, FORBIDDEN[part])]
                if wrong:
                    where = path.relative_to(ROOT).as_posix()
                    problems.append(f"{where}:{line} ({part}) imports {wrong[0]}")
    return sorted(problems)


def test_imports_point_one_way():
    assert _violations() == []


@pytest.mark.parametrize("app", APPS)
def test_no_module_is_named_by_prefix(app):
    named = [
        path.relative_to(ROOT).as_posix()
        for path in _sources(app)
        if path.name.startswith(PREFIXES)
    ]
    assert named == [], "split by subject into a sub-package instead (DESIGN.md, Layout)"
