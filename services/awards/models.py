"""The awards service's tables (SQLAlchemy Core), in its own database."""

from shared.db import new_metadata

metadata = new_metadata()
