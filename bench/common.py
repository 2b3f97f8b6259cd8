"""What every benchmark shares: the servers (the same Debian-package or
testcontainers servers the tests use), timing, percentiles, peak memory,
and the machine's description."""

from __future__ import annotations

import platform
import statistics
import subprocess
import time
import tracemalloc
from contextlib import contextmanager
from dataclasses import dataclass, field


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Measure:
    section: str
    name: str
    size: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    extra: dict = field(default_factory=dict)

    def row(self) -> dict:
        return {"section": self.section, "name": self.name, "size": self.size, "value": round(self.value, 3),
                "unit": self.unit, "target": self.target, "met": self.met, **self.extra}


@contextmanager
def timed_peak():
    """Yields a dict that gets seconds and peak_mib (Python allocations) on exit."""
    result: dict = {}
    tracemalloc.start()
    started = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - started
        result["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def machine() -> dict:
    def run(*argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        mem = f"{int(open('/proc/meminfo').readline().split()[1]) / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "cores": run("nproc"), "memory": mem, "python": platform.python_version(),
            "kernel": platform.release(), "rabbitmq": run("dpkg-query", "-W", "-f=${Version}", "rabbitmq-server"),
            "postgresql": run("dpkg-query", "-W", "-f=${Version}", "postgresql"), "median_of": statistics.__name__}
