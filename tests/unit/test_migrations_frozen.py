"""A migration, once applied somewhere, must never change: so it may not call
live code that could change under it.  Each migration imports only Alembic,
SQLAlchemy, the standard library, the column types of `shared.db` and the
frozen steps of `shared.migrations.frozen`, whose every file is pinned here
by its hash."""

import ast
import hashlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = sorted(ROOT.glob("services/*/migrations/versions/*.py"))
ALLOWED = {"alembic", "sqlalchemy", "shared.db", "shared.migrations.frozen", "__future__"}
FROZEN = ROOT / "shared" / "migrations" / "frozen"
# A frozen step is run by applied migrations: it may be added, never edited.
FROZEN_HASHES = {
    "__init__.py": "ed7ab563d883719f4a65128488a41d94691ba2291c6a016df8374a2d01a8ed34",
    "shared_tables_0001.py": "980743d9c6aa2b83ce4e39e9a110354f88bba8de1bef1760eba816310a0a7e87",
}


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


@pytest.mark.parametrize("path", sorted(FROZEN.glob("*.py")), ids=lambda p: p.name)
def test_a_frozen_step_never_changes(path):
    assert path.name in FROZEN_HASHES, f"{path.name} is new: pin its hash in FROZEN_HASHES"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == FROZEN_HASHES[path.name], (
        f"{path.name} changed, but applied migrations run it: write a new migration instead")


@pytest.mark.parametrize("path", sorted(FROZEN.glob("*.py")), ids=lambda p: p.name)
def test_a_frozen_step_calls_no_live_code(path):
    live = {name for name in _imports(path)
            if name.split(".")[0] not in sys.stdlib_module_names
            and not any(name == allowed or name.startswith(allowed + ".") for allowed in ALLOWED)}
    assert not live, f"{path.name} imports {sorted(live)}"
