"""The Alembic environment every service runs its own migrations in."""
