"""The web app of a service: flask-smorest with the OpenAPI document and
Swagger UI, one error format, request and correlation ids, JSON access logs,
/healthz, /readyz and /metrics.

The edge every request passes, the same in every service: the role check
(before anything is parsed), then the input screen (a body above
`DPS_MAX_BODY_BYTES` is refused 413 unread; a JSON body nested too deep,
or any text with NUL or an unpaired surrogate, or a number no column holds,
is refused with the field named: `shared.schemas.screen_json`), then the
schemas.  Every response carries the security headers (SECURITY_HEADERS);
every /v1 response is `Cache-Control: no-store` (it may carry personal data).
Every service answers `GET /v1/teams` (anyone signed in): the council's commissioning teams
(DPS_TEAMS), each code with the name shown to people.
A web process is ready when its database is: the broker's state is in
/healthz and the `dps_broker_up` gauge (the outbox keeps requests working
while the broker is away)."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
import uuid

import sqlalchemy as sa
from flask import Flask, Response, g, jsonify, request, send_from_directory
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from flask_smorest.error_handler import ErrorSchema as SmorestErrorSchema
from marshmallow import Schema, fields
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from werkzeug.exceptions import HTTPException

from shared import asyncapi, context, logs, subject_access
from shared.config import Settings, load_settings
from shared.errors import DPSError
from shared.schemas import Number, RefusedInput, screen_json, screen_text
from shared.service import Runtime, ServiceDefinition, load_definition

log = logging.getLogger("dps.http")

# Process-wide metrics (one per gunicorn worker process, labelled by service).
REQUESTS = Counter("dps_http_requests_total", "HTTP requests", ["service", "method", "endpoint", "status"])
LATENCY = Histogram("dps_http_request_seconds", "HTTP request latency", ["service", "method", "endpoint"])
BROKER_UP = Gauge("dps_broker_up", "Whether the web process reached RabbitMQ at its last health check",
                  ["service"], multiprocess_mode="max")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# The API's JSON is never framed nor a source of scripts; Swagger UI (/docs) needs its own scripts
# and styles, and the one inline script of its page (allowed by its hash).
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = ("default-src 'self'; script-src 'self'{inline}; img-src 'self' data:; "
            "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")


class ErrorSchema(SmorestErrorSchema):
    """The one error body (shared/errors.py), as the OpenAPI documents describe it ("Error")."""

    conflict = fields.String(metadata={"description": "On a 409: the field that conflicted, or \"state\""})


class DPSApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app=None, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self.register_field(Number, "number", None)

    def document(self) -> dict:
        """The OpenAPI document the service serves: flask-smorest's, finished by
        `shared.openapi` (operation ids, errors, content types, examples)."""
        from flask import current_app

        from shared import openapi

        finished = current_app.extensions.setdefault("dps_openapi", {})
        if "document" not in finished:
            finished["document"] = openapi.finish(self.spec.to_dict(), current_app)
        return finished["document"]

    def _openapi_json(self):
        from flask import json

        return Response(json.dumps(self.document(), indent=2, sort_keys=False), mimetype="application/json")


def _swagger_ui_dir() -> str:
    import swagger_ui_bundle

    return swagger_ui_bundle.swagger_ui_path


def create_app(definition: ServiceDefinition, settings: Settings, runtime: Runtime | None = None) -> Flask:
    app = Flask(f"dps.{definition.name}")
    runtime = runtime or Runtime(definition, settings)
    app.extensions["dps"] = runtime
    app.config.update(
        API_TITLE=definition.title,
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # served from the swagger-ui-bundle package: the docs work offline
        OPENAPI_SWAGGER_UI_URL="/docs/static/",
        API_SPEC_OPTIONS={"info": {"description": definition.description}},
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
    )
    api = DPSApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    for blueprint in definition.blueprints():
        api.register_blueprint(blueprint)
    if definition.subject_access is not None:
        api.register_blueprint(subject_access.blueprint(definition.subject_access))
    api.register_blueprint(_teams_blueprint())
    _register_operations(app, runtime)
    _register_errors(app)
    _register_request_ids(app, definition.name)
    _register_input_screen(app)
    _register_security_headers(app)
    return app


def _teams_blueprint() -> Blueprint:
    from shared.auth import ROLES, configured_teams, requires

    class TeamOut(Schema):
        code = fields.String(metadata={"description": "What tokens, queries and records carry"})
        name = fields.String(metadata={"description": "The name shown to people"})

    class TeamsOut(Schema):
        items = fields.List(fields.Nested(TeamOut))

    blp = Blueprint("teams", __name__, url_prefix="/v1", description="The council's commissioning teams")

    @blp.route("/teams")
    class Teams(MethodView):
        @blp.response(200, TeamsOut)
        @requires(*ROLES)
        def get(self):
            """The commissioning teams (DPS_TEAMS): each code with its name (anyone signed in)"""
            return {"items": [{"code": code, "name": name} for code, name in configured_teams().items()]}

    return blp


def create_app_for(service: str) -> Flask:
    """Entry point for gunicorn: `shared.web:create_app_for('referrals')`."""
    settings = load_settings(service)
    logs.configure(service, settings.log_level)
    _no_server_banner()
    return create_app(load_definition(service), settings)


def _no_server_banner() -> None:
    """gunicorn names itself and its version in a `Server` header on every
    response; an attacker learns what to try from it.  Leave it out."""
    from gunicorn.http import wsgi

    if getattr(wsgi.Response, "_dps_no_banner", False):
        return
    default_headers = wsgi.Response.default_headers

    def without_server(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    wsgi.Response.default_headers = without_server
    wsgi.Response._dps_no_banner = True
    wsgi.SERVER_SOFTWARE = "dps"  # the WSGI environ's SERVER_SOFTWARE, too


def _register_operations(app: Flask, runtime: Runtime) -> None:
    @app.get("/healthz")
    def healthz():
        # Alive whatever the broker's state; its state is detail for people and dashboards.
        broker = _broker_state(runtime.settings.amqp_url)
        BROKER_UP.labels(runtime.definition.name).set(1 if broker == "ok" else 0)
        return jsonify(status="alive", service=runtime.definition.name, checks={"broker": broker})

    @app.get("/readyz")
    def readyz():
        # Ready to take requests when the database answers: while the broker is away
        # the outbox keeps what is published, so the API keeps working.
        checks = {"database": _check_database(runtime)}
        ready = all(v == "ok" for v in checks.values())
        return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503

    @app.get("/metrics")
    def metrics():
        return Response(_metrics_text(), mimetype=CONTENT_TYPE_LATEST)

    @app.get("/asyncapi.json")
    def asyncapi_document():
        # The events this service publishes, as AsyncAPI 3.0 (shared/asyncapi.py): public, like /openapi.json.
        if "dps.asyncapi" not in app.extensions:
            app.extensions["dps.asyncapi"] = asyncapi.render(asyncapi.document(
                runtime.definition.name, runtime.definition.published, runtime.definition.title))
        return Response(app.extensions["dps.asyncapi"], mimetype="application/json")

    @app.get("/docs/static/<path:filename>")
    def swagger_static(filename):
        return send_from_directory(_swagger_ui_dir(), filename)


def _check_database(runtime: Runtime) -> str:
    try:
        with runtime.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"unavailable: {type(exc).__name__}"


BROKER_CHECK_EVERY = 15.0  # seconds: /healthz is probed often and must answer fast
_broker_checked: dict[str, tuple[float, str]] = {}


def _broker_state(amqp_url: str) -> str:
    """The broker's state as last seen (checked again at most every BROKER_CHECK_EVERY seconds)."""
    checked = _broker_checked.get(amqp_url)
    if checked is None or time.monotonic() - checked[0] > BROKER_CHECK_EVERY:
        checked = _broker_checked[amqp_url] = (time.monotonic(), _check_broker(amqp_url))
    return checked[1]


def _check_broker(amqp_url: str) -> str:
    from kombu import Connection

    try:
        with Connection(amqp_url, connect_timeout=1) as connection:
            connection.ensure_connection(max_retries=1, timeout=1)
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
        return f"unavailable: {type(exc).__name__}"


def _metrics_text() -> bytes:
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


def _register_errors(app: Flask) -> None:
    @app.errorhandler(DPSError)
    def domain_error(exc: DPSError):
        return jsonify(exc.to_dict()), exc.status

    @app.errorhandler(RefusedInput)
    def refused_input(exc: RefusedInput):
        from http import HTTPStatus

        body = {"code": exc.status, "status": HTTPStatus(exc.status).phrase, "message": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        return jsonify(body), exc.status

    @app.errorhandler(413)
    def too_large(exc: HTTPException):
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return jsonify(code=413, status="Request Entity Too Large",
                       message=f"the request body is larger than {limit} bytes"), 413

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # flask-smorest puts validation messages in exc.data["messages"]
        body = {"code": exc.code, "status": exc.name,
                "message": getattr(exc, "description", None) or exc.name}
        data = getattr(exc, "data", None) or {}
        if data.get("messages"):
            body["errors"] = data["messages"]
            body["message"] = "invalid input"
        if data.get("message"):
            body["message"] = data["message"]
        response = jsonify(body)
        response.status_code = exc.code or 500
        for name, value in exc.get_headers():
            if name.lower() != "content-type":  # e.g. `Allow` on a 405
                response.headers[name] = value
        for name, value in (data.get("headers") or {}).items():
            response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if _database_down(exc):
            log.warning("database unavailable", extra={"error": str(exc)})
            return jsonify(code=503, status="Service Unavailable",
                           message="the service's database is unavailable; try again shortly"), 503
        log.exception("unhandled error")  # the X-Request-ID header finds this line in the logs
        return jsonify(code=500, status="Internal Server Error", message="internal error"), 500


def _database_down(exc: Exception) -> bool:
    return isinstance(exc, sa.exc.DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError))


def _register_input_screen(app: Flask) -> None:
    @app.before_request
    def screen_input():
        # Runs after the role check: a caller without the role learns nothing of the body rules.
        if request.url_rule is None:
            return  # 404 or 405: nothing will read the input
        errors = screen_text(request.args.items(multi=True))
        if errors:
            raise RefusedInput(422, "invalid input", {"query": errors})
        if request.method in ("POST", "PUT", "PATCH") and request.is_json:
            body = request.get_data(cache=True)  # 413 above MAX_CONTENT_LENGTH, before reading it
            if body.strip():
                try:
                    screen_json(body)
                except RefusedInput as exc:
                    if exc.errors:
                        exc.errors = {"json": exc.errors}
                    raise


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        docs = request.path == "/docs" or request.path.startswith("/docs/")
        response.headers.setdefault("Content-Security-Policy",
                                    _docs_csp(response) if docs else API_CSP)
        if request.path.startswith("/v1/") or response.status_code >= 400:
            response.headers["Cache-Control"] = "no-store"
        return response


def _docs_csp(response) -> str:
    inline = ""
    if response.mimetype == "text/html" and not response.direct_passthrough:
        for script in re.findall(r"<script>(.*?)</script>", response.get_data(as_text=True), re.S):
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            inline += f" 'sha256-{digest}'"
    return DOCS_CSP.format(inline=inline)


def _register_request_ids(app: Flask, service: str) -> None:
    @app.before_request
    def bind_ids():
        rid = request.headers.get("X-Request-ID") or str(uuid.uuid4())
        cid = request.headers.get("X-Correlation-ID") or rid
        g._dps_tokens = [(context.request_id, context.request_id.set(rid[:200])),
                         (context.correlation_id, context.correlation_id.set(cid[:200]))]
        g._dps_started = time.perf_counter()

    @app.before_request
    def authorize_early():
        # Roles are checked before flask-smorest parses the body or query.
        from shared.auth import authorize, required_roles

        g.principal = None
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        roles = required_roles(view, request.method) if view is not None else None
        if roles:
            g.principal = authorize(roles)

    @app.after_request
    def log_request(response):
        elapsed = time.perf_counter() - getattr(g, "_dps_started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(service, request.method, endpoint, str(response.status_code)).inc()
        LATENCY.labels(service, request.method, endpoint).observe(elapsed)
        response.headers["X-Request-ID"] = context.request_id.get() or ""
        response.headers["X-Correlation-ID"] = context.correlation_id.get() or ""
        if endpoint not in ("/healthz", "/metrics"):
            log.info("%s %s %s", request.method, request.path, response.status_code,
                     extra={"status": response.status_code, "duration_ms": round(elapsed * 1000, 2)})
        return response

    @app.teardown_request
    def unbind_ids(_exc):
        for var, token in reversed(getattr(g, "_dps_tokens", [])):
            var.reset(token)
