"""`engine` and `store` never load Textual or Rich, `desk --help` loads nothing heavy, and
the layers import only what DESIGN.md allows.

Loading is checked by importing each module in a fresh interpreter, as STYLE.md asks; the
layer rules by reading every source file's imports with `ast`."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("textual", "rich")
HEAVY = ("pandas", "scipy", "sklearn", "statsmodels", "arch", "lightgbm", "ccxt", "textual")


def _modules(package: str) -> list[str]:
    return [f"{package}.{m.name}" for m in pkgutil.walk_packages([str(ROOT / package)])]


def _loaded_after(statement: str, names: tuple[str, ...]) -> list[str]:
    code = (f"import sys\n{statement}\n"
            f"print(','.join(n for n in {names!r} if n in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return [n for n in result.stdout.strip().split(",") if n]


@pytest.mark.parametrize("package", ["engine", "store"])
def test_no_module_of_engine_or_store_loads_textual_or_rich(package):
    modules = _modules(package)
    assert len(modules) > 5
    statement = "\n".join(f"import {m}" for m in modules)
    assert _loaded_after(statement, FORBIDDEN) == []


def test_the_command_line_parser_loads_nothing_heavy():
    assert _loaded_after("import desk.cli; desk.cli.build_parser()", HEAVY) == []


# -- the layer rules, read from the source (no import runs) ---------------------------------
#
# DESIGN.md: engine reaches store only through its SQLite adapter package; store knows
# nothing of the engine; neither knows the app or its UI libraries. Checked with `ast` over
# every source file, so an import inside a function, or one in a module nobody imports
# yet, counts too.

ADAPTER = ROOT / "engine" / "adapters" / "sqlite"
UI = ("desk", "textual", "rich")


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imported_roots(path: Path) -> set[str]:
    """Top-level package of every absolute import in the file (relative ones stay inside
    their own package and cannot cross a layer)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _offenders(package: str, forbidden: tuple[str, ...], allowed: Path | None = None) -> dict:
    found = {}
    for path in _sources(package):
        if allowed is not None and path.is_relative_to(allowed):
            continue
        bad = sorted(_imported_roots(path) & set(forbidden))
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_only_the_sqlite_adapter_of_the_engine_imports_store():
    assert len(_sources("engine")) > 20 and any(ADAPTER.rglob("*.py"))
    assert _offenders("engine", ("store",), allowed=ADAPTER) == {}


def test_the_sqlite_adapter_does_import_store():
    """The rule above is not vacuous: the door exists and is the one that is used."""
    assert any("store" in _imported_roots(p) for p in ADAPTER.rglob("*.py"))


def test_store_never_imports_the_engine():
    assert len(_sources("store")) > 5
    assert _offenders("store", ("engine",)) == {}


@pytest.mark.parametrize("package", ["engine", "store"])
def test_engine_and_store_never_import_the_app_or_its_ui_libraries(package):
    assert _offenders(package, UI) == {}


def test_the_checker_sees_imports_inside_functions(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from store.db import Store\n    import rich.text\n")
    assert _imported_roots(probe) == {"store", "rich"}


def _module_graph() -> dict[str, set[str]]:
    """Each of our modules -> the modules of ours it imports at its top level (type-only
    imports included: a cycle hidden behind TYPE_CHECKING is still a cycle of concerns)."""
    files = {}
    for package in ("desk", "engine", "store", "themes"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            files[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        edges: set[str] = set()
        statements = list(ast.parse(path.read_text()).body)
        while statements:
            node = statements.pop()
            if isinstance(node, ast.If):  # `if TYPE_CHECKING:` and friends
                statements += node.body + node.orelse
            elif isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in files}
            elif isinstance(node, ast.ImportFrom) and node.module in files:
                subs = {f"{node.module}.{a.name}" for a in node.names}
                edges |= (subs & files.keys()) or {node.module}
        graph[name] = edges - {name}
    return graph


def test_our_modules_import_each_other_without_cycles():
    graph = _module_graph()
    assert len(graph) > 50
    state: dict[str, int] = {}  # 1 on the path, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # A package's __init__ that re-exports its submodules is not a cycle of concerns.
    real = [c for c in cycles if not any(b.startswith(a + ".") for a, b in zip(c, c[1:],
                                                                            strict=False))]
    assert real == []
