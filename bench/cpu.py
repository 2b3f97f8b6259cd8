"""Where the machine's CPU went during a measure: every process's user and
system time from /proc, grouped by what the process is (the services' web
workers, consumers and relays, PostgreSQL, RabbitMQ, wrk, anything else).

A write that goes through the outbox costs more than its request: the relay
publishes the event and each consuming service applies it, all on the same
two cores.  This is what shows how much (bench/http_services.py)."""

from __future__ import annotations

import os
import re
from collections import Counter

_ROLE = re.compile(r"shared\.cli (web|consumer|relay) \w+|create_app_for")
GROUPS = ("web", "relay", "consumer", "postgresql", "rabbitmq", "wrk", "minimal app", "other")


def _group(command: str) -> str:
    match = _ROLE.search(command)
    if match:
        return match.group(1) or "web"  # gunicorn's workers carry its command line
    if "bench.minimal_app" in command:
        return "minimal app"
    if command.startswith("postgres") or "/postgres " in command:
        return "postgresql"
    if any(name in command for name in ("beam.smp", "erl_child_setup", "epmd", "inet_gethost")):
        return "rabbitmq"
    if command.startswith("wrk ") or "/wrk " in command:
        return "wrk"
    return "other"


def snapshot() -> Counter:
    """CPU seconds used so far by each group's live processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: Counter = Counter()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if not command:
            continue  # kernel threads
        used[_group(command)] += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return used


def spent(before: Counter, after: Counter) -> dict[str, float]:
    """CPU seconds each group used between two snapshots (a process that ended
    meanwhile is not counted; one that started is counted whole)."""
    return {group: max(0.0, after.get(group, 0.0) - before.get(group, 0.0)) for group in GROUPS}


def per_request(used: dict[str, float], requests: int) -> str:
    """'web 1.2, relay 0.3, ...': CPU milliseconds per request by group, the largest first."""
    if not requests:
        return ""
    parts = sorted(((seconds * 1000 / requests, group) for group, seconds in used.items() if seconds > 0),
                   reverse=True)
    return ", ".join(f"{group} {ms:.2f}" for ms, group in parts)
