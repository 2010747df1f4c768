"""The charter package is plain Python (bot/charter/__init__.py): no `async def`, no `await`,
and nothing imported but the charter itself and the standard library. Read from the source,
so that it holds for every module, also one added later."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CHARTER = Path(__file__).resolve().parent.parent / "bot" / "charter"
MODULES = sorted(CHARTER.glob("*.py"))
ASYNC_NODES = (ast.AsyncFunctionDef, ast.Await, ast.AsyncFor, ast.AsyncWith)


def imported(tree: ast.AST) -> list[str]:
    """Every module the source imports (relative imports are the charter's own)."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def allowed(module: str) -> bool:
    top = module.split(".")[0]
    in_charter = module == "bot.charter" or module.startswith("bot.charter.")
    return in_charter or top == "__future__" or top in sys.stdlib_module_names


def test_the_charter_has_modules_to_check() -> None:
    assert {"policy.py", "tally.py", "course.py", "teams.py"} <= {m.name for m in MODULES}


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_a_charter_module_neither_awaits_nor_imports_beyond_the_standard_library(
    module: Path,
) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    asynchronous = [
        f"line {node.lineno}: {type(node).__name__}"
        for node in ast.walk(tree)
        if isinstance(node, ASYNC_NODES)
    ]
    assert asynchronous == [], asynchronous
    foreign = [name for name in imported(tree) if not allowed(name)]
    assert foreign == [], foreign


def test_the_check_finds_what_it_forbids() -> None:
    tree = ast.parse(
        "import telegram\nfrom storage.db import Db\nfrom bot.flows import decisions\n"
        "from bot.charter.tally import tally_round\nimport datetime\n"
        "async def f():\n    await g()\n"
    )
    assert [name for name in imported(tree) if not allowed(name)] == [
        "telegram",
        "storage.db",
        "bot.flows",
    ]
    assert {type(node) for node in ast.walk(tree) if isinstance(node, ASYNC_NODES)} == {
        ast.AsyncFunctionDef,
        ast.Await,
    }
