"""Exchanges and queues.

- Each service publishes on its own durable topic exchange `dps.<service>`,
  routing key = event type, persistent messages.
- Each consuming service has one durable queue `<service>.events` bound to
  the event types it reads, a TTL queue per retry delay that dead-letters
  back into it, and `<service>.events.dead` for messages it gave up on.
- With DPS_QUORUM_QUEUES the service queues are quorum queues (replicated on a
  cluster); the same code runs on one node.
"""

from __future__ import annotations

from kombu import Exchange, Queue, binding

from shared.catalogue import event_type, exchange_for


def service_exchange(service: str) -> Exchange:
    return Exchange(exchange_for(service), type="topic", durable=True, delivery_mode=2)


def queue_name(service: str) -> str:
    return f"{service}.events"


def dead_letter_queue_name(service: str) -> str:
    return f"{queue_name(service)}.dead"


def retry_queue_name(service: str, delay: float) -> str:
    return f"{queue_name(service)}.retry.{int(delay * 1000)}ms"


def _arguments(quorum: bool) -> dict:
    return {"x-queue-type": "quorum"} if quorum else {}


def main_queue(service: str, event_types: list[str], quorum: bool) -> Queue:
    bindings = [binding(service_exchange(event_type(t).producer), routing_key=t) for t in sorted(event_types)]
    return Queue(queue_name(service), bindings=bindings, durable=True, queue_arguments=_arguments(quorum))


def _dead_letter_safety(quorum: bool) -> dict:
    # Quorum queues dead-letter at most once unless told otherwise: a retry
    # whose delay is up must not be lost on its way back.
    return {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"} if quorum else {}


def retry_queues(service: str, delays: tuple[float, ...], quorum: bool) -> list[Queue]:
    return [
        Queue(
            retry_queue_name(service, delay),
            durable=True,
            queue_arguments={
                **_arguments(quorum),
                **_dead_letter_safety(quorum),
                "x-message-ttl": int(delay * 1000),
                # when the delay is up, back to the service's queue by the default exchange
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": queue_name(service),
            },
        )
        for delay in delays
    ]


def dead_letter_queue(service: str, quorum: bool) -> Queue:
    return Queue(dead_letter_queue_name(service), durable=True, queue_arguments=_arguments(quorum))


def declare_consumer_topology(channel, service: str, event_types: list[str], delays, quorum: bool) -> Queue:
    queue = main_queue(service, event_types, quorum)
    for q in [queue, *retry_queues(service, delays, quorum), dead_letter_queue(service, quorum)]:
        q.bind(channel).declare()
    return queue
