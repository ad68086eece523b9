"""No module of the tests imports a test file: what tests share lives in helper
modules (`builders`, `histories`, `verdicts`, `id_space`, `producing`, `waiting`, …),
so that each test file can be read, moved and run on its own."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def imported_test_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The test modules an import statement brings in, by dotted name."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("tests.test_")]
    module = ("." * node.level) + (node.module or "")
    if module in ("tests", "."):  # from tests import test_x; from . import test_x
        return [f"{module.rstrip('.')}.{a.name}" for a in node.names if a.name.startswith("test_")]
    last = module.removeprefix("tests.").lstrip(".")
    if (module.startswith("tests.") or node.level) and last.startswith("test_"):
        return [module]
    return []


def test_no_test_file_imports_another_test_file() -> None:
    found = [
        f"{path.relative_to(TESTS.parent)}:{node.lineno} imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for module in imported_test_modules(node)
    ]
    assert found == [], "move what they share into a helper module:\n" + "\n".join(found)
