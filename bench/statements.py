"""What each benchmarked endpoint and event costs in database statements:
the figures behind bench/README.md's notes on missed targets.

Starts the servers and the system as `http_services` does, makes the same
records, then sends each endpoint's request 50 times through the service's
own Flask app in this process (the test client, on the same databases),
counting SQLAlchemy statements (the pool's pre-ping is not one of them) and
timing each request; then hands capacity.changed to the referrals and awards
consumers' `handle` the same way.  Not part of `make bench`:

    .venv/bin/python -m bench.statements
"""

from __future__ import annotations

import signal
import sys
import time

import sqlalchemy as sa

from bench.event_path import RegistryOutbox
from bench.http_services import State
from bench.system import BenchSystem, own_servers
from shared.events import new_event
from shared.web import create_app
from tests.support import runtime as rt

REPEAT = 50


class _Ctx:
    sizes = [1]
    seconds = 3
    raw_publish_rate = None
    minimal_rps = None
    templates = None


def _counted(service: str, url: str, amqp_url: str):
    runtime = rt.build_runtime(service, url, amqp_url, migrate=False)
    counter = {"n": 0}

    def count(*_args, **_kwargs):
        counter["n"] += 1

    sa.event.listen(runtime.engine, "before_cursor_execute", count)
    return runtime, counter


def main() -> int:
    ctx = _Ctx()
    with own_servers(ctx), BenchSystem(ctx) as system:
        state = State(system)
        print(f"{'service':<18} {'request':<58} {'statements':>10} {'ms (in process)':>16}")
        apps = {}
        for name, service in system.system.services.items():
            runtime, counter = _counted(name, service.database_url, ctx.rabbitmq.amqp_url)
            apps[name] = (create_app(runtime.definition, runtime.settings, runtime).test_client(), counter)
        for endpoint in state.endpoints():
            client, counter = apps[endpoint["service"]]

            def send(i, endpoint=endpoint, client=client):
                path, headers, *template = endpoint["targets"][i % len(endpoint["targets"])]
                body = template[0].replace("@N@", str(7 + i % 3)) if template and template[0] else None
                response = client.open(path, method=endpoint["method"], headers=headers, data=body)
                assert response.status_code < 300, (response.status_code, response.get_data(as_text=True))

            send(0)
            counter["n"] = 0
            started = time.perf_counter()
            for i in range(REPEAT):
                send(i)
            seconds = (time.perf_counter() - started) / REPEAT
            print(f"{endpoint['service']:<18} {endpoint['name']:<58} "
                  f"{counter['n'] / REPEAT:>10.1f} {seconds * 1000:>16.1f}")
        # the consumers: stop the real ones so this process does the work
        outbox = RegistryOutbox(system, state.providers, 1)
        for name in ("referrals", "awards"):
            system.system[name].signal("consumer", signal.SIGTERM)
            runtime, counter = _counted(name, system.system[name].database_url, ctx.rabbitmq.amqp_url)
            consumer = runtime.consumer()
            bodies = [new_event("capacity.changed", {**outbox._data_for(i), "at": runtime.clock().isoformat()},
                                "provider_registry").to_json() for i in range(REPEAT + 1)]
            consumer.handle(bodies[0])
            counter["n"] = 0
            started = time.perf_counter()
            for body in bodies[1:]:
                assert consumer.handle(body).action == "done"
            seconds = (time.perf_counter() - started) / REPEAT
            print(f"{name:<18} {'consumer: capacity.changed':<58} {counter['n'] / REPEAT:>10.1f} "
                  f"{seconds * 1000:>16.1f}")
        outbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
