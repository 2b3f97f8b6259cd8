"""HTTP entry points of the notifications service: the delivery log (the
manager), the messages it sends, and each person's preferences."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from services.notifications import domain, handlers, schemas
from shared import audit
from shared.auth import current_principal, requires
from shared.paging import LINK_DOC, Page, Paging

deliveries_blp = Blueprint("deliveries", __name__, url_prefix="/v1",
                           description="What was sent to whom, and how it went (not the messages' words)")
preferences_blp = Blueprint("preferences", __name__, url_prefix="/v1",
                            description="The messages the DPS sends, and the optional ones a person turns off")


def blueprints() -> list[Blueprint]:
    return [deliveries_blp, preferences_blp, audit.blueprint()]


def _runtime():
    return current_app.extensions["dps"]


@deliveries_blp.route("/deliveries")
class Deliveries(MethodView):
    @deliveries_blp.arguments(schemas.DeliveryQuery, location="query")
    @deliveries_blp.response(200, schemas.DeliverySchema(many=True), headers=LINK_DOC)
    @requires("manager")
    def get(self, query):
        """The delivery log, newest first"""
        page = Page.take(query)
        with _runtime().unit_of_work(read_only=True) as uow:
            rows = uow.deliveries.log(status=query.get("status"), recipient_key=query.get("recipient_key"),
                                      limit=page.fetch, offset=page.offset)
            return page.respond(rows, lambda row: row._asdict())


@preferences_blp.route("/messages")
class Messages(MethodView):
    @preferences_blp.arguments(Paging, location="query")
    @preferences_blp.response(200, schemas.MessageSchema(many=True), headers=LINK_DOC)
    @requires("provider", "officer", "manager")
    def get(self, query):
        """Every message the DPS sends, and whether it may be turned off"""
        page = Page.take(query)
        return page.respond(page.window([
            {"template": t.name, "audience": t.audience.value, "subject": t.subject, "optional": t.optional,
             "why_required": t.why_required or None} for t in domain.TEMPLATES.values()]))


@preferences_blp.route("/preferences")
class Preferences(MethodView):
    @preferences_blp.response(200, schemas.PreferencesSchema)
    @requires("provider", "officer", "manager")
    def get(self):
        """The optional messages the signed-in person's organisation, team or role has turned off"""
        key = handlers.recipient_key(current_principal())
        with _runtime().unit_of_work(read_only=True) as uow:
            return {"recipient_key": key, "turned_off": sorted(uow.copies.turned_off(key))}

    @preferences_blp.arguments(schemas.PreferencesSchema)
    @preferences_blp.response(200, schemas.PreferencesSchema)
    @requires("provider", "officer", "manager")
    def put(self, body):
        """Turn optional messages off (a decision or a safeguarding message cannot be)"""
        principal = current_principal()
        with _runtime().unit_of_work(principal) as uow:
            names = handlers.set_preferences(uow, principal, body["turned_off"])
            uow.commit()
        return {"recipient_key": handlers.recipient_key(principal), "turned_off": sorted(names)}
