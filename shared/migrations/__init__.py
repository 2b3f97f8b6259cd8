"""Alembic environment shared by every service, and the tables they all have."""
