"""Events this service reads from others, turned into its own commands."""

from shared.messaging.consumer import Handler


def event_handlers() -> dict[str, Handler]:
    return {}
