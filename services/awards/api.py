"""HTTP entry points of the awards service."""

from flask_smorest import Blueprint


def blueprints() -> list[Blueprint]:
    return []
