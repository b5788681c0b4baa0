"""The code's layers (ARCHITECTURE.md, 'Where things are'): each package imports only from the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Packages from the floor up; a package may import its own layer and any lower one.
LAYERS = [
    {"gym_envs", "gym_wrappers", "loggers"},
    {"utils"},
    {"agents"},
    {"trainer_callbacks"},
    {"training"},
]
LEVEL: dict[str, float] = {package: level for level, packages in enumerate(LAYERS) for package in packages}
# Tools that read a finished run sit beside the CLIs: they may load policies (agents/) but never import the
# trainer's wiring or its callbacks, and nothing in the framework imports them.
TOOLS = {"gameplay", "inspector", "publishing", "sweeps"}
LEVEL.update({tool: LEVEL["agents"] + 0.5 for tool in TOOLS})


def _imported_packages(path: Path) -> set[str]:
    """Top-level names of this project's packages that ``path`` imports, at module level or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & set(LEVEL)


@pytest.mark.parametrize("package", sorted(LEVEL))
def test_no_module_imports_a_layer_above_its_own(package: str) -> None:
    reaching_up = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in _imported_packages(path)
        if LEVEL[name] > LEVEL[package]
    }
    assert not reaching_up, sorted(reaching_up)


def test_no_framework_package_imports_a_tool() -> None:
    importing_tools = {
        f"{path.relative_to(ROOT)} imports {name}"
        for package in set(LEVEL) - TOOLS
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in _imported_packages(path) & TOOLS
    }
    assert not importing_tools, sorted(importing_tools)
