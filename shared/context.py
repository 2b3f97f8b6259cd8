"""Request and correlation ids carried through a request or a message handler,
so every log line and every event written says which conversation it belongs to."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
# The event being handled, so events it causes name it as their cause.
causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)


def current_correlation_id() -> str:
    return correlation_id.get() or request_id.get() or str(uuid.uuid4())


@contextmanager
def bound(*, request: str | None = None, correlation: str | None = None, causation: str | None = None):
    tokens = [
        (request_id, request_id.set(request)),
        (correlation_id, correlation_id.set(correlation)),
        (causation_id, causation_id.set(causation)),
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
