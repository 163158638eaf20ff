"""Apps build on the ones below them only (README, "Apps").

Walks every module of each app (ast, migrations excluded) and fails when one
imports an app higher in the order, at module level or inside a function.
Imports under ``if TYPE_CHECKING:`` are type hints only and are skipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Highest first: each app may import only the apps after it.
ORDER = [
    "realtime",
    "portal",
    "consults",
    "diagnoses",
    "cases",
    "media_handling",
    "workspace",
]
# Known upward imports, each a (module, imported app) pair still to invert.
# Adding to this list needs a reason; the test fails when an entry goes stale.
KNOWN = {
    # Project wiring, not a feature: the ASGI entry point routes websockets.
    ("workspace/asgi.py", "realtime"),
}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or 0) + 1))
    return lines


def _imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _type_checking_lines(tree)
    apps = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            apps.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            apps.add(node.module.split(".")[0])
    return apps


def _upward_imports() -> set[tuple[str, str]]:
    found = set()
    for rank, app in enumerate(ORDER):
        higher = set(ORDER[:rank])
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for imported in _imported_apps(path) & higher:
                found.add((str(path.relative_to(ROOT)), imported))
    return found


def test_no_app_imports_an_app_above_it():
    unexpected = _upward_imports() - KNOWN
    assert not unexpected, (
        "These modules import an app above their own (order: "
        + " → ".join(ORDER)
        + "): "
        + ", ".join(f"{module} imports {app}" for module, app in sorted(unexpected))
    )


def test_known_upward_imports_are_still_there():
    stale = KNOWN - _upward_imports()
    assert not stale, f"Remove these from KNOWN, they are fixed: {sorted(stale)}"


def test_the_walker_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import portal\n"
        "def f():\n    from consults.models import ConsultRequest\n"
    )
    assert _imported_apps(module) == {"typing", "consults"}
