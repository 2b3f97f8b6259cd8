"""Signing in and out.

- Council staff: OpenID Connect against the council's identity provider (Authlib; Microsoft Entra ID is the
  usual one): DPS_PORTAL_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET; the ID token's roles and team are read from
  the claims DPS_JWT_ROLES_CLAIM and DPS_JWT_TEAM_CLAIM name, its role names mapped by DPS_JWT_ROLE_MAP (the
  same settings the services use for the identity provider's tokens: `shared.auth.ClaimNames`).
- Provider users: a single-use sign-in link sent to their address (`links.py`).
- Development: "sign in as a manager / an officer of a team / a user of a provider", only when
  DPS_PORTAL_DEVELOPMENT_SIGN_IN is set, which the settings refuse unless DPS_ENVIRONMENT is development.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for

from services.portal.forms import DevelopmentSignInForm, EmailLinkForm, error_summary
from services.portal.links import SignInLinks, TooManyLinks, send_link
from services.portal.tokens import Person
from shared.auth import ROLES, ClaimNames
from shared.config import PortalSettings

blueprint = Blueprint("sign_in", __name__)
log = logging.getLogger("dps.portal")


def _settings() -> PortalSettings:
    return current_app.extensions["portal"].settings


def start_session(person: Person):
    session.clear()
    session.permanent = True
    session["person"], session["seen"] = person.to_session(), time.time()
    return redirect(url_for("provider.invitations") if person.is_provider else url_for("sign_in.start"))


@blueprint.app_errorhandler(401)
def not_signed_in(exc):
    return redirect(url_for("sign_in.start", next=request.path))


@blueprint.route("/")
def start():
    if g.get("person") is not None and g.person.is_provider:
        return redirect(url_for("provider.invitations"))
    return render_template("start.html", oidc=_settings().oidc_configured, idle=g.get("signed_out_idle", False))


@blueprint.route("/sign-in/development", methods=["GET", "POST"])
def development():
    settings = _settings()
    if not settings.development_sign_in:
        abort(404)
    form = DevelopmentSignInForm()
    form.team.choices = list(settings.teams.items())
    if form.validate_on_submit():
        role = form.role.data
        if role == "officer" and form.team.data not in settings.teams:
            form.team.errors = ["Select the officer's team"]
        provider_id = (form.provider_id.data or "").strip()
        if role == "provider":
            try:
                provider_id = str(uuid.UUID(provider_id))
            except ValueError:
                form.provider_id.errors = ["Enter the provider's id, like 3f0c4a8e-1b7d-4c55-9a43-0f2b9d1e6a11"]
        if not (form.team.errors or form.provider_id.errors):
            sub = {"manager": "dev-manager", "officer": f"dev-officer-{form.team.data}",
                   "provider": f"dev-user-of-{provider_id}"}[role]
            return start_session(Person(sub, (role,), form.team.data if role == "officer" else None,
                                        provider_id if role == "provider" else None,
                                        name=dict(form.role.choices)[role]))
    return render_template("sign_in_development.html", form=form, errors=error_summary(form))


@blueprint.route("/sign-out", methods=["POST"])
def sign_out():
    session.clear()
    return render_template("signed_out.html")


# --- council staff: OpenID Connect ------------------------------------------------------------------

def oidc_client(app):
    """The Authlib client the settings describe (registered once per app), or None when not configured."""
    settings: PortalSettings = app.extensions["portal"].settings
    if not settings.oidc_configured:
        return None
    if "authlib.integrations.flask_client" not in app.extensions:
        from authlib.integrations.flask_client import OAuth

        oauth = OAuth(app)
        oauth.register("council", client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
                       server_metadata_url=settings.oidc_metadata_url,
                       client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"})
    return app.extensions["authlib.integrations.flask_client"].council


def person_from_claims(claims: dict, settings: PortalSettings) -> Person:
    """A member of staff from the identity provider's ID token: roles (mapped), team; never a provider."""
    names = ClaimNames(settings.roles_claim, settings.team_claim, "provider_id", dict(settings.role_map))
    roles = names.roles_of(claims)
    roles = sorted({r for r in roles if r in ROLES and r != "provider"}) if isinstance(roles, list) else []
    if not roles:
        abort(403)
    team = names.read(claims, names.team)
    if "officer" in roles and team not in settings.teams:
        abort(403)
    return Person(str(claims["sub"]), tuple(roles), team if "officer" in roles else None,
                  name=str(claims.get("name") or ""))


@blueprint.route("/sign-in/council")
def council():
    client = oidc_client(current_app)
    if client is None:
        abort(404)
    return client.authorize_redirect(url_for("sign_in.council_callback", _external=True))


@blueprint.route("/sign-in/council/callback")
def council_callback():
    client = oidc_client(current_app)
    if client is None:
        abort(404)
    token = client.authorize_access_token()
    return start_session(person_from_claims(token["userinfo"], _settings()))


# --- provider users: a single-use link by email ---------------------------------------------------------

def _links() -> SignInLinks:
    settings = _settings()
    return SignInLinks(settings.data_dir / "portal-links.sqlite3", minutes=settings.link_minutes,
                       per_hour=settings.links_per_hour)


@blueprint.route("/sign-in/email", methods=["GET", "POST"])
def email_link():
    settings, form = _settings(), EmailLinkForm()
    if form.validate_on_submit():
        address = form.email.data.strip()
        person = current_app.extensions["portal"].provider_users(address)
        try:
            # counted whether or not the address is a provider user's, so the limit tells nobody which are
            secret = _links().issue(address, json.dumps(person.to_session()) if person else "")
        except TooManyLinks:
            form.email.errors = [f"You have asked for {settings.links_per_hour} links in the last hour. "
                                 "Use the newest one, or wait an hour and ask again"]
        else:
            if person is not None:
                url = settings.portal_url + url_for("sign_in.use_link", secret=secret)
                try:
                    send_link(settings, address, url)
                except OSError as exc:
                    log.warning("a sign-in link could not be sent", extra={"error": type(exc).__name__})
                    form.email.errors = ["Your link could not be sent just now. Try again in a few minutes"]
            if not form.email.errors:
                return render_template("sign_in_link_sent.html", minutes=settings.link_minutes)
    return render_template("sign_in_email.html", form=form, errors=error_summary(form))


@blueprint.route("/sign-in/link/<secret>", methods=["GET", "POST"])
def use_link(secret: str):
    """GET shows a button; only the POST uses the link, so a mail scanner opening it does not spend it."""
    if request.method == "POST":
        person = _links().use(secret)
        if person is not None:
            return start_session(Person.from_session(json.loads(person)))
        return render_template("problem.html", title="That sign-in link has expired",
                               message="A link works once, for a short time. Ask for a new one."), 400
    return render_template("sign_in_link.html")
