"""The portal's Flask app: built from its settings (`create_app`), nothing at import time.

GOV.UK Frontend's Jinja macros (govuk-frontend-jinja) render the pages; its compiled assets come from the npm
package the set-up installs (services/portal/node_modules, pinned by package-lock.json) and are served under
/assets.  Every form carries a CSRF token (Flask-WTF).  The session is Flask's signed cookie (Secure, HttpOnly,
SameSite=Lax), ended after DPS_PORTAL_IDLE_MINUTES unused.  Pages work without JavaScript; the one inline
script, GOV.UK Frontend's `js-enabled` line, is allowed by its hash in the Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, render_template, send_from_directory, session
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from services.portal import provider, sign_in
from services.portal.client import PortalState, ServiceDown, Transport, http_transport
from services.portal.filters import FILTERS
from services.portal.tokens import Person
from shared.config import PortalSettings, load_portal_settings

log = logging.getLogger("dps.portal")

HERE = Path(__file__).parent
FRONTEND = HERE / "node_modules" / "govuk-frontend" / "dist" / "govuk"
# GOV.UK Frontend's template adds `js-enabled` to <body> with this one inline script
JS_ENABLED = ("document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? "
              "' govuk-frontend-supported' : '');")
JS_ENABLED_HASH = base64.b64encode(hashlib.sha256(JS_ENABLED.encode()).digest()).decode()
CSP = (f"default-src 'self'; script-src 'self' 'sha256-{JS_ENABLED_HASH}'; style-src 'self'; "
       "img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
SERVICE_NAME = "Alternative provision"


def create_app(settings: PortalSettings | None = None, *, transport: Transport | None = None) -> Flask:
    settings = settings or load_portal_settings()
    frontend = Path(settings.frontend_dir) if settings.frontend_dir else FRONTEND
    if not (frontend / "govuk-frontend.min.css").is_file():
        raise RuntimeError(f"GOV.UK Frontend is not installed at {frontend}: run `make setup` (npm ci), or set "
                           "DPS_PORTAL_FRONTEND_DIR")
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key, SESSION_COOKIE_NAME="dps_portal", SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.idle_minutes), WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,  # SameSite=Lax and the token guard the forms; behind a proxy the Referer varies
    )
    if not settings.secret_key:
        raise ValueError("the portal needs DPS_PORTAL_SECRET_KEY (it signs the session cookie)")
    app.jinja_loader = ChoiceLoader([PackageLoader("services.portal"),
                                     PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})])
    app.jinja_env.filters.update(FILTERS)
    app.extensions["portal"] = PortalState(settings, transport or http_transport(settings.service_urls))
    CSRFProtect(app)

    @app.route("/assets/<path:name>")
    def assets(name: str):
        return send_from_directory(frontend / "assets", name, max_age=3600)

    @app.route("/stylesheets/govuk-frontend.min.css")
    def stylesheet():
        return send_from_directory(frontend, "govuk-frontend.min.css", max_age=3600)

    @app.route("/javascripts/<any('govuk-frontend.min.js', 'init.js'):name>")
    def javascript(name: str):
        folder = HERE / "static" if name == "init.js" else frontend
        return send_from_directory(folder, name, max_age=3600, mimetype="text/javascript")

    @app.route("/healthz")
    def healthz():
        return {"status": "ok"}

    app.register_blueprint(sign_in.blueprint)
    app.register_blueprint(provider.blueprint)

    @app.before_request
    def idle_timeout():
        g.person = None
        if "person" not in session:
            return
        now = time.time()
        if now - session.get("seen", now) > settings.idle_minutes * 60:
            session.clear()
            g.signed_out_idle = True
            return
        session.permanent = True
        session["seen"] = now
        g.person = Person.from_session(session["person"])

    @app.context_processor
    def page_context():
        return {"serviceName": SERVICE_NAME, "serviceUrl": "/", "person": g.get("person"),
                "development_sign_in": settings.development_sign_in, "link_minutes": settings.link_minutes}

    @app.after_request
    def headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(ServiceDown)
    def service_down(exc: ServiceDown):
        return render_template("service_down.html", service=exc.service.replace("_", " ")), 503

    @app.errorhandler(CSRFError)
    def csrf_refused(exc: CSRFError):
        return render_template("problem.html", title="Your form could not be sent",
                               message="The page had been open too long, or was sent from elsewhere. "
                                       "Go back, reload the page and try again."), 400

    for status, title in ((404, "Page not found"), (403, "You cannot see this page")):
        app.register_error_handler(status, _problem(status, title))
    app.register_error_handler(500, _problem(500, "Sorry, there is a problem with the service"))
    return app


def _problem(status: int, title: str):
    def handler(exc):
        return render_template("problem.html", title=title, message=""), status
    return handler
