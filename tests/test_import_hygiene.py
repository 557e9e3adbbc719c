"""`engine` and `store` never load Textual or Rich, and `desk --help` loads nothing heavy.

Each module is imported in a fresh interpreter, as STYLE.md asks."""

from __future__ import annotations

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
