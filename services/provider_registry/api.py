"""HTTP entry points of the provider registry service."""

from flask_smorest import Blueprint


def blueprints() -> list[Blueprint]:
    return []
