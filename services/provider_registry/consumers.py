"""Events this service reads from others: none.  The registry is the source
of provider data; it keeps nothing of the other services'."""

from shared.messaging.consumer import Handler


def event_handlers() -> dict[str, Handler]:
    return {}
