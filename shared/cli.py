"""`dps`: the one command that runs every role of every service.

    dps migrate [SERVICE ...]         bring databases to the latest migration, declare the
                                      exchanges, queues and bindings on RabbitMQ
    dps web SERVICE                   the HTTP API under gunicorn
    dps consumer SERVICE [--metrics-port N]   the event consumer (and scheduled jobs)
    dps relay SERVICE [--metrics-port N]      the outbox relay
    dps run-jobs SERVICE [--force]    run scheduled jobs once now
    dps dead-letters SERVICE [--unrouted] [--replay] [--limit N]
    dps token --role ROLE [--team T] [--provider-id ID] [--sub S] [--hours H]
    dps wait-ready [--timeout S] [--portal]   wait for every service's /readyz (and the portal's /healthz)
    dps smtp [--port N] [--folder DIR]  a local SMTP server keeping each message as a file
                                      (development: `make run` starts it; data/mail)
    dps portal                        the portal (services/portal) under gunicorn (DPS_PORTAL_*)
    dps portal-keys [--folder DIR]    a development RS256 key pair for the portal's tokens, made once
                                      (data/portal-jwt-private.pem and -public.pem; `make run`)
    dps make-migration SERVICE -m MESSAGE
    dps subject-access (CHILD_REF | --upn UPN) [--out DIR]
                                      everything every service holds about one child, as one
                                      bundle (JSON and HTML); a manager's token in DPS_TOKEN
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from datetime import timedelta

from shared import logs
from shared.catalogue import SERVICES
from shared.config import DEFAULT_PORTS, load_settings

log = logging.getLogger("dps")


def _stop_on_signals(stoppers) -> None:
    def handler(signum, _frame):
        log.info("stopping", extra={"signal": signum})
        for stop in stoppers:
            stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _declare_topology(runtime) -> None:
    """Declare the service's part of the topology; a broker that is away does
    not stop a migration (the relay and the consumer declare what they use
    when they connect)."""
    from shared.messaging.relay import BROKER_ERRORS

    try:
        runtime.declare_topology()
        log.info("topology declared", extra={"service": runtime.definition.name})
    except BROKER_ERRORS as exc:
        log.warning("broker unreachable: exchanges and queues not declared now; the relay and the consumer "
                    "declare them when they connect", extra={"error": str(exc)})


def cmd_migrate(args) -> int:
    from shared.service import Runtime

    for service in args.services or SERVICES:
        logs.configure(service)
        runtime = Runtime.for_service(service)
        runtime.migrate()
        runtime.engine.dispose()
        log.info("migrated", extra={"database": runtime.engine.url.render_as_string(hide_password=True)})
        if not args.no_broker:
            _declare_topology(runtime)
    return 0


def cmd_web(args) -> int:
    from shared.config import data_dir
    from shared.service import Runtime

    settings = load_settings(args.service)
    if not args.no_migrate:
        # Migrations run on start-up (a no-op when already at head; PostgreSQL
        # replicas take an advisory lock, so only one migrates).
        logs.configure(args.service, settings.log_level)
        runtime = Runtime.for_service(args.service, settings)
        runtime.migrate()
        runtime.engine.dispose()
        _declare_topology(runtime)
    workers = args.workers or settings.web_workers
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # gunicorn workers are processes: /metrics adds up what each one counted
        metrics_dir = data_dir() / "metrics" / args.service
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    threads = settings.web_threads
    argv = ["gunicorn", "--bind", f"{settings.host}:{settings.port}", "--workers", str(workers),
            "--threads", str(threads), "--worker-class", "gthread", "--graceful-timeout", "10",
            "--access-logfile", "/dev/null",  # each request is logged once, by the app (shared.web), as JSON
            f"shared.web:create_app_for('{args.service}')"]
    os.execvp(sys.executable, [sys.executable, "-m", *argv])
    return 0  # not reached


def cmd_consumer(args) -> int:
    from shared.service import Runtime

    settings = load_settings(args.service)
    logs.configure(args.service, settings.log_level)
    runtime = Runtime.for_service(args.service, settings)
    consumer = runtime.consumer()
    from shared.messaging import metrics

    metrics.serve(_metrics_port(args, settings), metrics.QueueDepths(args.service, settings.amqp_url),
                  host=settings.host)
    jobs_stopping = threading.Event()
    _stop_on_signals([consumer.stop, jobs_stopping.set])
    if not args.no_jobs:
        threading.Thread(target=runtime.job_loop, args=(jobs_stopping,), daemon=True, name="jobs").start()
    consumer.run()
    return 0


def cmd_relay(args) -> int:
    from shared.service import Runtime

    settings = load_settings(args.service)
    logs.configure(args.service, settings.log_level)
    runtime = Runtime.for_service(args.service, settings)
    relay = runtime.relay()
    from shared.messaging import metrics

    metrics.serve(_metrics_port(args, settings), runtime.relay_backlog(), host=settings.host)
    _stop_on_signals([relay.stop])
    relay.run()
    return 0


def _metrics_port(args, settings) -> int | None:
    """--metrics-port, else DPS_METRICS_PORT; none: no metrics server.  It listens
    where the service's web process does (DPS_<SERVICE>_HOST, DPS_HOST)."""
    return args.metrics_port if args.metrics_port is not None else settings.metrics_port


def cmd_run_jobs(args) -> int:
    from shared.service import Runtime

    logs.configure(args.service)
    ran = Runtime.for_service(args.service).run_jobs(force=args.force)
    print(json.dumps({"ran": ran}))
    return 0


def cmd_dead_letters(args) -> int:
    from shared.messaging.consumer import peek_dead_letters, replay_dead_letters
    from shared.messaging.topology import unrouted_name

    settings = load_settings(args.service)
    source = unrouted_name(args.service) if args.unrouted else None
    if args.replay:
        moved = replay_dead_letters(args.service, settings.amqp_url, args.limit, source=source)
        print(json.dumps({"replayed": moved}))
    else:
        for letter in peek_dead_letters(args.service, settings.amqp_url, args.limit or 50, source=source):
            print(json.dumps(letter))
    return 0


def cmd_token(args) -> int:
    from shared.auth import mint_token
    from shared.config import DEVELOPMENT_JWT_AUDIENCE, DEVELOPMENT_JWT_ISSUER, DEVELOPMENT_JWT_SECRET

    settings = load_settings(SERVICES[0])  # every service shares the token settings
    private_key = open(args.private_key).read() if args.private_key else None
    secret = None if private_key else settings.jwt_secret or DEVELOPMENT_JWT_SECRET
    print(mint_token(roles=args.role, sub=args.sub, team=args.team, provider_id=args.provider_id,
                     ttl=timedelta(hours=args.hours), secret=secret, private_key=private_key,
                     issuer=settings.jwt_issuer or DEVELOPMENT_JWT_ISSUER,
                     audience=settings.jwt_audience or DEVELOPMENT_JWT_AUDIENCE))
    return 0


def cmd_portal(args) -> int:
    from shared.config import load_portal_settings

    settings = load_portal_settings()  # a setting it cannot use stops it here, named
    argv = ["gunicorn", "--bind", f"{settings.host}:{settings.port}", "--workers", _env_int("DPS_WEB_WORKERS", 2),
            "--threads", _env_int("DPS_WEB_THREADS", 4), "--worker-class", "gthread", "--graceful-timeout", "10",
            "--forwarded-allow-ips", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
            "services.portal.app:create_app()"]
    os.execvp(sys.executable, [sys.executable, "-m", *argv])
    return 0  # not reached


def _env_int(name: str, default: int) -> str:
    return str(int(os.environ.get(name) or default))


def cmd_portal_keys(args) -> int:
    """The development key pair: the portal signs with the private key; the services get the public one."""
    from pathlib import Path

    from shared.auth import new_key_pair
    from shared.config import data_dir

    folder = Path(args.folder) if args.folder else data_dir()
    private, public = folder / "portal-jwt-private.pem", folder / "portal-jwt-public.pem"
    if private.exists() and public.exists():
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    private_pem, public_pem = new_key_pair()
    private.touch(mode=0o600)
    private.write_text(private_pem)
    public.write_text(public_pem)
    print(f"a development key pair for the portal's tokens: {private}, {public}")
    return 0


def cmd_wait_ready(args) -> int:
    import urllib.request

    deadline = time.monotonic() + args.timeout
    waiting = {s: f"{_service_url(s)}/readyz" for s in args.services or SERVICES}
    if args.portal:
        from shared.config import load_portal_settings

        portal = load_portal_settings()
        waiting["portal"] = f"http://{portal.host}:{portal.port}/healthz"
    while waiting and time.monotonic() < deadline:
        for service, url in list(waiting.items()):
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        print(f"{service} ready at {url.removesuffix('/readyz')}")
                        del waiting[service]
            except OSError:
                pass
        time.sleep(0.5)
    for service, url in waiting.items():
        print(f"{service} NOT ready at {url}", file=sys.stderr)
    return 1 if waiting else 0


def cmd_smtp(args) -> int:
    from pathlib import Path

    from services.notifications.mailbox import LocalMailServer
    from shared.config import data_dir

    folder = Path(args.folder) if args.folder else data_dir() / "mail"
    server = LocalMailServer(folder, args.host, args.port).start()
    stopping = threading.Event()
    _stop_on_signals([stopping.set])
    print(f"local SMTP server on {args.host}:{args.port}: each message kept as a file in {folder}", flush=True)
    stopping.wait()
    server.stop()
    return 0


def _service_url(service: str) -> str:
    settings = load_settings(service)
    return f"http://{settings.host}:{settings.port}"


def cmd_subject_access(args) -> int:
    import urllib.parse
    import urllib.request
    from pathlib import Path
    from uuid import UUID

    from shared.subject_access import UnknownChild, bundle, render_html

    token = os.environ.get("DPS_TOKEN")
    if not token:
        print("set DPS_TOKEN to a manager's token (dps token --role manager)", file=sys.stderr)
        return 2
    child_ref = args.child_ref
    if args.upn:  # the council's reference for a child: its UPN, found through the referrals API
        query = urllib.parse.urlencode({"upn": args.upn, "page_size": 1})
        request = urllib.request.Request(f"{_service_url('referrals')}/v1/referrals?{query}",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own service
            found = json.load(response)
        if not found:
            print("no child with that UPN is known to referrals", file=sys.stderr)
            return 2
        child_ref = found[0]["child_ref"]
    if not child_ref:
        print("give a child's reference or --upn", file=sys.stderr)
        return 2
    try:
        made = bundle(UUID(child_ref), {s: _service_url(s) for s in SERVICES}, token)
    except UnknownChild as unknown:
        print(str(unknown), file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"subject-access-{child_ref}.json").write_text(json.dumps(made, indent=2, ensure_ascii=False))
    (out / f"subject-access-{child_ref}.html").write_text(render_html(made))
    print(out / f"subject-access-{child_ref}.html")
    return 0


def cmd_make_migration(args) -> int:
    from shared.db import make_migration
    from shared.service import load_definition

    definition = load_definition(args.service)
    make_migration(definition.versions, definition.metadata, args.message)
    return 0


def cmd_asyncapi(args) -> int:
    """Write each service's AsyncAPI document to docs/asyncapi/<service>.json (generated from the code)."""
    from pathlib import Path

    from shared import asyncapi

    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        print(f"no such service: {', '.join(unknown)} (one of {', '.join(SERVICES)})", file=sys.stderr)
        return 2
    for path in asyncapi.write(args.services or SERVICES, Path(args.out) if args.out else asyncapi.DOCS):
        print(path)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dps", description="Run the DPS services.")
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("migrate")
    m.add_argument("services", nargs="*", help="default: all five")
    m.add_argument("--no-broker", action="store_true", help="migrate the databases only")
    m.set_defaults(func=cmd_migrate)
    for name, func in (("web", cmd_web), ("consumer", cmd_consumer), ("relay", cmd_relay), ("run-jobs", cmd_run_jobs),
                       ("dead-letters", cmd_dead_letters), ("make-migration", cmd_make_migration)):
        s = sub.add_parser(name)
        s.add_argument("service", choices=SERVICES)
        s.set_defaults(func=func)
        if name == "web":
            s.add_argument("--workers", type=int)
            s.add_argument("--no-migrate", action="store_true", help="do not migrate the database first")
        if name == "consumer":
            s.add_argument("--no-jobs", action="store_true", help="do not run scheduled jobs in this process")
        if name in ("consumer", "relay"):
            s.add_argument("--metrics-port", type=int,
                           help="serve Prometheus metrics on this port (default: DPS_METRICS_PORT, else none)")
        if name == "run-jobs":
            s.add_argument("--force", action="store_true", help="run even if this period already ran")
        if name == "dead-letters":
            s.add_argument("--replay", action="store_true", help="move them back to the service's queue")
            s.add_argument("--unrouted", action="store_true",
                           help="the events of the service's exchange that no queue was bound for "
                                "(dps.SERVICE.unrouted); --replay publishes them again on the exchange")
            s.add_argument("--limit", type=int)
        if name == "make-migration":
            s.add_argument("-m", "--message", required=True)
    t = sub.add_parser("token", help="mint a development token")
    t.add_argument("--role", action="append", required=True, choices=("officer", "manager", "evaluator",
                                                                        "provider", "reporting"))
    t.add_argument("--team")
    t.add_argument("--provider-id")
    t.add_argument("--sub", default="dev-user")
    t.add_argument("--hours", type=float, default=8)
    t.add_argument("--private-key", help="PEM file: sign RS256 instead of HS256")
    t.set_defaults(func=cmd_token)
    sub.add_parser("portal", help="the portal under gunicorn").set_defaults(func=cmd_portal)
    k = sub.add_parser("portal-keys", help="a development key pair for the portal's tokens (made once)")
    k.add_argument("--folder")
    k.set_defaults(func=cmd_portal_keys)
    w = sub.add_parser("wait-ready")
    w.add_argument("services", nargs="*")
    w.add_argument("--timeout", type=float, default=60)
    w.add_argument("--portal", action="store_true", help="wait for the portal too")
    w.set_defaults(func=cmd_wait_ready)
    smtp = sub.add_parser("smtp", help="a local SMTP server that keeps each message as a file (development)")
    smtp.add_argument("--host", default="127.0.0.1")
    smtp.add_argument("--port", type=int, default=1025)
    smtp.add_argument("--folder", help="default: DPS_DATA_DIR/mail")
    smtp.set_defaults(func=cmd_smtp)
    a = sub.add_parser("subject-access", help="everything every service holds about one child")
    a.add_argument("child_ref", nargs="?", help="the child's reference (child_ref)")
    a.add_argument("--upn", help="find the child by UPN instead")
    a.add_argument("--out", default=".", help="where to write the bundle (default: here)")
    a.set_defaults(func=cmd_subject_access)
    d = sub.add_parser("asyncapi", help="write the AsyncAPI documents of the events (docs/asyncapi/)")
    d.add_argument("services", nargs="*", help="default: all four")
    d.add_argument("--out", help="the folder (default: docs/asyncapi)")
    d.set_defaults(func=cmd_asyncapi)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["main", "DEFAULT_PORTS"]
