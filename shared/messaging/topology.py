"""Exchanges and queues.

- Each service publishes on its own durable topic exchange `dps.<service>`,
  routing key = event type, persistent messages.
- Each service exchange has an alternate exchange `dps.<service>.unrouted`
  (fanout) with a durable queue of the same name: an event that no queue is
  bound for (many, such as attendance, have no reader inside the system by
  design) is kept there, where operators can read and replay it, instead of
  being confirmed and dropped.
- Each consuming service has one durable queue `<service>.events` bound to
  the event types it reads, a TTL queue per retry delay that dead-letters
  back into it, and `<service>.events.dead` for messages it gave up on.
- Everything is declared up front (`dps migrate`, and the web process when it
  migrates on start), so an outside reader can bind before the services start
  and no event is published before its readers' queues exist; the relay and
  the consumer declare what they use again when they connect.
- With DPS_QUORUM_QUEUES the service queues are quorum queues (replicated on a
  cluster); the same code runs on one node.

An exchange declared by an older version has no alternate exchange, and
RabbitMQ refuses to redeclare an exchange with other arguments
(PRECONDITION_FAILED).  Such an exchange is used as it is, with a warning:
docs/operations.md says how to give it its alternate exchange by a policy.
"""

from __future__ import annotations

import logging

from kombu import Exchange, Queue, binding

from shared.catalogue import SERVICES, event_type, exchange_for

log = logging.getLogger(__name__)


def unrouted_name(service: str) -> str:
    """The alternate exchange of `dps.<service>`, and its queue (same name)."""
    return f"{exchange_for(service)}.unrouted"


def service_exchange(service: str, *, declare: bool = True) -> Exchange:
    return Exchange(exchange_for(service), type="topic", durable=True, delivery_mode=2,
                    arguments={"alternate-exchange": unrouted_name(service)}, no_declare=not declare)


def unrouted_exchange(service: str) -> Exchange:
    return Exchange(unrouted_name(service), type="fanout", durable=True)


def unrouted_queue(service: str, quorum: bool = False) -> Queue:
    return Queue(unrouted_name(service), exchange=unrouted_exchange(service), durable=True,
                 queue_arguments=_arguments(quorum))


def queue_name(service: str) -> str:
    return f"{service}.events"


def dead_letter_queue_name(service: str) -> str:
    return f"{queue_name(service)}.dead"


def retry_queue_name(service: str, delay: float) -> str:
    return f"{queue_name(service)}.retry.{int(delay * 1000)}ms"


def _arguments(quorum: bool) -> dict:
    return {"x-queue-type": "quorum"} if quorum else {}


def main_queue(service: str, event_types: list[str], quorum: bool) -> Queue:
    # The exchanges are declared first (declare_exchanges); binding never redeclares them.
    bindings = [binding(service_exchange(event_type(t).producer, declare=False), routing_key=t)
                for t in sorted(event_types)]
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


def _precondition_failed(exc: BaseException) -> bool:
    return getattr(exc, "reply_code", None) == 406 or "PRECONDITION_FAILED" in str(exc)


def declare_exchanges(connection, services=SERVICES, quorum: bool = False) -> None:
    """Each service's exchange with its alternate exchange and that one's queue.

    Uses channels of its own: a refused redeclare closes the channel it was
    made on."""
    for service in services:
        channel = connection.channel()
        try:
            unrouted_exchange(service).bind(channel).declare()
            unrouted_queue(service, quorum).bind(channel).declare()
            try:
                service_exchange(service).bind(channel).declare()
            except Exception as exc:  # noqa: BLE001 - only a refused redeclare is expected here
                if not _precondition_failed(exc):
                    raise
                channel = connection.channel()
                # it exists (a passive declare raises if not): keep using it as it is
                Exchange(exchange_for(service), type="topic", passive=True).bind(channel).declare()
                log.warning(
                    "exchange %s exists without its alternate exchange; events no queue is bound for are "
                    "dropped until it has one (docs/operations.md: 'Unrouted events')", exchange_for(service),
                    extra={"exchange": exchange_for(service), "alternate_exchange": unrouted_name(service)})
        finally:
            try:
                channel.close()
            except Exception:  # noqa: BLE001 - closing a channel the broker already closed
                pass


def declare_consumer_topology(channel, service: str, event_types: list[str], delays, quorum: bool) -> Queue:
    """The service's queues and bindings (and the exchanges they bind to)."""
    producers = sorted({event_type(t).producer for t in event_types})
    declare_exchanges(channel.connection, producers, quorum)  # on channels of their own
    queue = main_queue(service, event_types, quorum)
    for q in [queue, *retry_queues(service, delays, quorum), dead_letter_queue(service, quorum)]:
        q.bind(channel).declare()
    return queue


def declare_topology(connection, consumers: dict[str, list[str]], delays, quorum: bool) -> None:
    """Everything, up front: every service's exchange (with its alternate
    exchange and queue), then for each consuming service its queues and
    bindings.  `consumers`: service -> the event types it reads."""
    declare_exchanges(connection, SERVICES, quorum)
    channel = connection.channel()
    try:
        for service, event_types in consumers.items():
            declare_consumer_topology(channel, service, event_types, delays, quorum)
    finally:
        channel.close()
