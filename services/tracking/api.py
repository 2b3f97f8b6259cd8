"""HTTP entry points of the tracking service."""

from flask_smorest import Blueprint


def blueprints() -> list[Blueprint]:
    return []
