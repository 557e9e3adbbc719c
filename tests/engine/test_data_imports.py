"""Import hygiene of engine.data: no UI libraries, and the package itself costs nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "engine.data.frame",
    "engine.data.files",
    "engine.data.datasets",
    "engine.data.symbols",
    "engine.data.microstructure",
    "engine.data.sim",
    "engine.data.sources",
]


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", MODULES)
def test_no_ui_or_heavy_modelling_library_at_import(module):
    loaded = imported_after(f"import {module}")
    for banned in ("textual", "rich", "scipy", "arch", "sklearn", "statsmodels"):
        assert banned not in loaded, f"{module} imports {banned}"


def test_package_import_is_light():
    loaded = imported_after("import engine.data")
    assert "pandas" not in loaded and "numpy" not in loaded
