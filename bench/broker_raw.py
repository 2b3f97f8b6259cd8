"""The raw limit of the broker, measured in the same run as our event path:
kombu publishing persistent, confirmed messages straight to RabbitMQ, and a
consumer draining them with an ack each."""

from __future__ import annotations

import time
import uuid

from kombu import Connection, Exchange, Producer, Queue

from bench.common import Measure


def run(amqp_url: str, count: int, size: str) -> list[Measure]:
    body = '{"id":"%s","type":"bench.raw","data":{"n":%d,"pad":"%s"}}' % (uuid.uuid4(), 0, "x" * 400)
    exchange = Exchange("bench.raw", type="topic", durable=True)
    queue = Queue(f"bench.raw.{uuid.uuid4().hex[:6]}", exchange=exchange, routing_key="#", durable=True)
    with Connection(amqp_url, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        queue.bind(channel).declare()
        producer = Producer(channel, exchange=exchange)
        started = time.perf_counter()
        for _ in range(count):
            producer.publish(body, routing_key="bench.raw", delivery_mode=2, content_type="application/json",
                             retry=False)
        publish_seconds = time.perf_counter() - started

        received = 0

        def on_message(message):
            nonlocal received
            message.ack()
            received += 1

        consumer_channel = connection.channel()
        started = time.perf_counter()
        with connection.Consumer(queue, channel=consumer_channel, on_message=on_message, prefetch_count=100):
            while received < count:
                connection.drain_events(timeout=10)
        drain_seconds = time.perf_counter() - started
        queue.bind(channel).delete()
    return [
        Measure("broker", "raw confirmed persistent publish", size, count / publish_seconds, "msg/s",
                extra={"messages": count}),
        Measure("broker", "raw consume with ack", size, count / drain_seconds, "msg/s", extra={"messages": count}),
    ]
