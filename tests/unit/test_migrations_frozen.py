"""A migration, once applied somewhere, must never change: so it may not call
live code that could change under it.  Each migration imports only Alembic,
SQLAlchemy, the standard library and the column types of `shared.db`."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = sorted(ROOT.glob("services/*/migrations/versions/*.py"))
ALLOWED = {"alembic", "sqlalchemy", "shared.db", "__future__"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_there_are_migrations():
    assert len(MIGRATIONS) >= 8


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: f"{p.parts[-4]}/{p.name}")
def test_a_migration_calls_no_live_code(path):
    live = {name for name in _imports(path)
            if name.split(".")[0] not in sys.stdlib_module_names
            and not any(name == allowed or name.startswith(allowed + ".") for allowed in ALLOWED)}
    assert not live, f"{path.name} imports {sorted(live)}: write the DDL out instead"
