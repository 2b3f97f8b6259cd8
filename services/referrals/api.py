"""HTTP entry points of the referrals service."""

from flask_smorest import Blueprint


def blueprints() -> list[Blueprint]:
    return []
