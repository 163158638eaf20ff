"""Apps build on the ones below them only (README, "Apps").

Walks every module of each app (ast, migrations excluded) and fails when one
imports an app higher in the order, at module level or inside a function.
Imports under ``if TYPE_CHECKING:`` are type hints only and are skipped.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
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


# -- No import knots ----------------------------------------------------------


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _load_time_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module loads: not inside a function, and not
    under ``if TYPE_CHECKING:``."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        pending.extend(ast.iter_child_nodes(node))


def _import_graph(root: Path, apps: list[str]) -> dict[str, set[str]]:
    """Module → the project modules it imports at load time."""
    files = {}
    for app in apps:
        for path in (root / app).rglob("*.py"):
            if "migrations" not in path.parts:
                files[_module_name(path, root)] = path

    modules = {name for name, _ in files}

    def known(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    graph: dict[str, set[str]] = {}
    for (name, is_package), path in files.items():
        package = name if is_package else name.rpartition(".")[0]
        targets = set()
        for node in _load_time_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(known(alias.name) for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            targets.update(known(f"{base}.{alias.name}") for alias in node.names)
        graph[name] = {t for t in targets if t and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other_at_load_time():
    """The old knots (``faces`` ↔ ``deid.video``, ``pipeline`` ↔
    ``dicom_pipeline.process``) stay untied: no two modules need each other
    to load. A function-level import inside a task is allowed."""
    cycles = _cycles(_import_graph(ROOT, ORDER))
    assert not cycles, "Import cycles: " + "; ".join(" ↔ ".join(c) for c in cycles)


def test_the_cycle_finder_sees_a_knot_through_a_package(tmp_path):
    app = tmp_path / "app"
    (app / "pkg").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "pkg" / "__init__.py").write_text("from .a import f\n")
    (app / "pkg" / "a.py").write_text("from app.b import g\ndef f(): pass\n")
    (app / "b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import app.c\n"
        "def later():\n    import app.c\n"
        "from app.pkg import f\ndef g(): pass\n"
    )
    (app / "c.py").write_text("import app.b\n")
    assert _cycles(_import_graph(tmp_path, ["app"])) == [
        ["app.b", "app.pkg", "app.pkg.a"]
    ]


# -- Services -----------------------------------------------------------------

# ``require(condition, message)`` reads like ``assert``; nothing else may take
# more than one argument by position.
POSITIONAL_ALLOWED = {"require"}


def _service_modules() -> Iterator[Path]:
    for app in ORDER:
        single = ROOT / app / "services.py"
        if single.exists():
            yield single
        yield from sorted((ROOT / app / "services").glob("*.py"))


def test_services_take_typed_keyword_arguments():
    problems = []
    for path in _service_modules():
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if node.name.startswith("_"):
                continue
            args = node.args
            positional = args.posonlyargs + args.args
            where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
            if len(positional) > 1 and node.name not in POSITIONAL_ALLOWED:
                problems.append(f"{where} takes {len(positional)} positional arguments")
            untyped = [a.arg for a in positional + args.kwonlyargs if not a.annotation]
            if untyped or node.returns is None:
                problems.append(f"{where} lacks type hints ({', '.join(untyped)})")
    assert not problems, "\n".join(problems)
