"""HTTP entry points of the referrals service.

- `/v1/referrals...`: the council side (officers of a commissioning team; the
  manager reads everything).
- `/v1/provider/...`: providers' own systems: the referrals they were invited
  to (pseudonymised profile only), their offers, declines and webhook.
- `/v1/off-dps-exceptions`, `/v1/registry/memberships`,
  `/v1/webhook-deliveries`, `/v1/audit`: oversight.
"""

from __future__ import annotations

import hashlib
import json
from uuid import UUID

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.referrals import census_api, erasure_api, handlers, views, webhooks
from services.referrals import schemas as s
from services.referrals.unit_of_work import ReferralsUnitOfWork
from shared import audit
from shared.actor import Actor
from shared.auth import current_principal, requires
from shared.calendar import Calendar
from shared.errors import InvalidInput, NotFound
from shared.paging import LINK_DOC, Page, Paging

council = Blueprint("referrals", __name__, url_prefix="/v1", description="Referrals: the council's side")
provider = Blueprint("provider", __name__, url_prefix="/v1/provider",
                     description="Referrals and offers: a provider's own systems")
oversight = Blueprint("oversight", __name__, url_prefix="/v1", description="Oversight: exceptions, registry copy, "
                                                                          "webhook deliveries, audit trail")

IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENCY_DOC = {"parameters": [{
    "in": "header", "name": IDEMPOTENCY_KEY, "required": False, "schema": {"type": "string", "maxLength": 200},
    "description": "Makes a retried POST safe: the same key with the same body returns the same offer (200); "
                   "with a different body it is refused (422)."}]}


def _council_view(view: handlers.CouncilView) -> dict:
    """What the council sees of a referral (after an action: the referral the handler saved, not read again)."""
    return views.council_view(view.referral, view.child_ref)


def blueprints() -> list[Blueprint]:
    return [council, provider, oversight, audit.blueprint(), erasure_api.children, census_api.reports]


def _uow() -> ReferralsUnitOfWork:
    """A unit of work acting as the caller (it may write)."""
    return current_app.extensions["dps"].unit_of_work(current_principal())


def _reading() -> ReferralsUnitOfWork:
    """A unit of work that only reads (no write lock on SQLite; never committed)."""
    return current_app.extensions["dps"].unit_of_work(current_principal(), read_only=True)


def _actor() -> Actor:
    return current_principal()


def _identity_read(*shown: handlers.CouncilView) -> None:
    """Record that the caller read these children's identities, through this endpoint."""
    with _uow() as uow:
        handlers.record_identity_reads(uow, _actor(), shown, through=f"{request.method} {request.path}")


def _calendar() -> Calendar:
    """The school calendar of the settings (a malformed one stops the service at start)."""
    return current_app.extensions["dps"].calendar


# --- the council side --------------------------------------------------------------------

@council.route("/referrals")
class Referrals(MethodView):
    @council.arguments(s.ReferralIn)
    @council.response(201, s.CouncilReferralOut)
    @requires("officer")
    def post(self, form):
        """Complete a referral form (a draft)"""
        with _uow() as uow:
            return _council_view(handlers.create_referral(
                uow, _actor(), lot=form["lot"], child=form["child"], profile=form["profile"],
                deadline=form["deadline"], exclusion_start=form["exclusion_start"], questions=form["questions"],
                calendar=_calendar(), dps_id=form["dps_id"], urgency=form["urgency"]))

    @council.arguments(s.CouncilReferralQuery, location="query")
    @council.response(200, s.CouncilReferralOut(many=True), headers=LINK_DOC)
    @requires("officer", "manager")
    def get(self, query):
        """List referrals, newest first (an officer: their team's; the manager: all)"""
        page = Page.take(query)
        with _reading() as uow:
            found = handlers.referrals_for_council(uow, _actor(), **query, limit=page.fetch, offset=page.offset)
        _identity_read(*found[:page.size])
        return page.respond(found, _council_view)


@council.route("/referrals/<uuid:referral_id>")
class OneReferral(MethodView):
    @council.response(200, s.CouncilReferralOut)
    @requires("officer", "manager")
    def get(self, referral_id: UUID):
        """A referral with the child's details, for its team's officers and the manager"""
        with _reading() as uow:
            view = handlers.referral_for_council(uow, _actor(), referral_id)
        _identity_read(view)
        return _council_view(view)

    @council.arguments(s.ReferralRevision)
    @council.response(200, s.CouncilReferralOut)
    @requires("officer")
    def patch(self, changes, referral_id: UUID):
        """Revise a draft"""
        with _uow() as uow:
            return _council_view(handlers.revise_referral(uow, _actor(), referral_id, calendar=_calendar(),
                                                          **changes))


@council.route("/referrals/<uuid:referral_id>/questions")
class Questions(MethodView):
    @council.arguments(s.QuestionIn)
    @council.response(201, s.QuestionCreatedOut)
    @requires("officer")
    def post(self, data, referral_id: UUID):
        """Add a further quality criterion (draft only)"""
        with _uow() as uow:
            return {"question_id": handlers.add_question(uow, _actor(), referral_id, data["text"])}


@council.route("/referrals/<uuid:referral_id>/questions/<uuid:question_id>")
class OneQuestion(MethodView):
    @council.response(204)
    @requires("officer")
    def delete(self, referral_id: UUID, question_id: UUID):
        """Remove a further question (draft only)"""
        with _uow() as uow:
            handlers.remove_question(uow, _actor(), referral_id, question_id)


@council.route("/referrals/<uuid:referral_id>/publish")
class Publish(MethodView):
    @council.response(200, s.PublishedOut)
    @requires("officer")
    def post(self, referral_id: UUID):
        """Publish to every provider admitted and not suspended on the lot now"""
        with _uow() as uow:
            invited = handlers.publish_referral(uow, _actor(), referral_id)
            return {"referral_id": referral_id, "invited_provider_ids": list(invited),
                    "no_eligible_providers": not invited}


@council.route("/referrals/<uuid:referral_id>/extend")
class Extend(MethodView):
    @council.arguments(s.WindowIn)
    @council.response(200, s.CouncilReferralOut)
    @requires("officer")
    def post(self, data, referral_id: UUID):
        """Extend the window before it closes (every invited provider is told by webhook)"""
        with _uow() as uow:
            return _council_view(handlers.extend_window(uow, _actor(), referral_id, **data))


@council.route("/referrals/<uuid:referral_id>/republish")
class Republish(MethodView):
    @council.arguments(s.RepublishIn)
    @council.response(201, s.CouncilReferralOut)
    @requires("officer")
    def post(self, data, referral_id: UUID):
        """Re-publish a closed or unsuccessful referral to the lot with a new window: a new referral, inviting
        every provider admitted and not suspended now; this one is cancelled, naming it"""
        with _uow() as uow:
            return _council_view(handlers.republish_referral(uow, _actor(), referral_id, **data))


@council.route("/referrals/<uuid:referral_id>/close")
class Close(MethodView):
    @council.response(200, s.CouncilReferralOut)
    @requires("officer")
    def post(self, referral_id: UUID):
        """Close early: only once every invited provider has offered or declined"""
        with _uow() as uow:
            return _council_view(handlers.close_referral_early(uow, _actor(), referral_id))


@council.route("/referrals/<uuid:referral_id>/cancel")
class Cancel(MethodView):
    @council.arguments(s.ReasonIn)
    @council.response(200, s.CouncilReferralOut)
    @requires("officer")
    def post(self, data, referral_id: UUID):
        """Cancel a referral not yet awarded (a draft, open, or closed), with a reason"""
        with _uow() as uow:
            return _council_view(handlers.cancel_referral(uow, _actor(), referral_id, data["reason"]))


@council.route("/referrals/<uuid:referral_id>/offers")
class CouncilOffers(MethodView):
    @council.arguments(Paging, location="query")
    @council.response(200, s.CouncilOfferOut(many=True), headers=LINK_DOC)
    @requires("officer", "manager")
    def get(self, query, referral_id: UUID):
        """The live offers, once the window has closed (sealed until then)"""
        page = Page.take(query)
        with _reading() as uow:
            referral = handlers.offers_for_council(uow, _actor(), referral_id)
            return page.respond(page.window(referral.live_offers),
                                lambda o: views.offer_view(referral, o, with_assessment=True))


@council.route("/referrals/<uuid:referral_id>/declines")
class CouncilDeclines(MethodView):
    @council.arguments(Paging, location="query")
    @council.response(200, s.DeclineOut(many=True), headers=LINK_DOC)
    @requires("officer", "manager")
    def get(self, query, referral_id: UUID):
        """Providers that declined, and why (once the window has closed)"""
        page = Page.take(query)
        with _reading() as uow:
            referral = handlers.offers_for_council(uow, _actor(), referral_id)
            return page.respond(page.window(list(referral.declines.values())),
                                lambda d: {"provider_id": d.provider_id, "reason": d.reason, "at": d.at})


@council.route("/referrals/<uuid:referral_id>/offers/<uuid:offer_id>/assessment")
class Assess(MethodView):
    @council.arguments(s.AssessmentIn)
    @council.response(200, s.CouncilOfferOut)
    @requires("officer")
    def put(self, data, referral_id: UUID, offer_id: UUID):
        """Record whether an offer meets the needs, and why (each further question met or not)"""
        with _uow() as uow:
            referral, offer = handlers.assess_offer(uow, _actor(), referral_id, offer_id, **data)
            return views.offer_view(referral, offer, with_assessment=True)


@council.route("/referrals/<uuid:referral_id>/complete-assessment")
class CompleteAssessment(MethodView):
    @council.response(200, s.CouncilReferralOut)
    @requires("officer")
    def post(self, referral_id: UUID):
        """Every offer assessed: the referral goes to awards (or has no suitable offer)"""
        with _uow() as uow:
            return _council_view(handlers.complete_assessment(uow, _actor(), referral_id))


@council.route("/referrals/<uuid:referral_id>/off-dps-exception")
class OffDps(MethodView):
    @council.arguments(s.OffDpsExceptionIn)
    @council.response(201, s.ExceptionOut)
    @requires("officer")
    def post(self, data, referral_id: UUID):
        """No offer can meet the needs: record an off-DPS exception, with a reason, the provider, the
        placement's terms and the minimum checks; the manager approves it in awards"""
        with _uow() as uow:
            reason = data.pop("reason")
            view = handlers.record_off_dps_exception(uow, _actor(), referral_id, reason, data)
            return _council_view(view)["off_dps_exception"]


# --- providers -------------------------------------------------------------------------------

def _fingerprint(referral_id: UUID) -> str:
    body = request.get_json(silent=True)
    canonical = json.dumps({"referral_id": str(referral_id), "body": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _idempotency_key() -> str | None:
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 200 or not key.isprintable():
        raise InvalidInput("an Idempotency-Key is 1 to 200 printable characters", field=IDEMPOTENCY_KEY,
                           location="headers")
    return key


@provider.route("/referrals")
class ProviderReferrals(MethodView):
    @provider.arguments(s.ProviderReferralQuery, location="query")
    @provider.response(200, s.ProviderReferralOut(many=True), headers=LINK_DOC)
    @requires("provider")
    def get(self, query):
        """Referrals your organisation was invited to (open ones unless open_only=false)"""
        actor, page = _actor(), Page.take(query)
        with _reading() as uow:
            found = handlers.referrals_for_provider(uow, actor, **query, limit=page.fetch, offset=page.offset)
            return page.respond(found, lambda r: views.provider_view(r, actor.provider_id))


@provider.route("/referrals/<uuid:referral_id>")
class ProviderReferral(MethodView):
    @provider.response(200, s.ProviderReferralOut)
    @requires("provider")
    def get(self, referral_id: UUID):
        """The pseudonymised profile of a referral you were invited to, while it is open to you

        Open while you may still offer and while your offer is live and not yet decided; then 404, saying
        when and why it closed to you (the provider awarded it keeps it)."""
        actor = _actor()
        with _reading() as uow:
            referral = handlers.referral_for_provider(uow, actor, referral_id)
            return views.provider_view(referral, actor.provider_id,
                                       lines=handlers.lines_to_quote(uow, actor, referral))


@provider.route("/referrals/<uuid:referral_id>/offers")
class ProviderReferralOffers(MethodView):
    @provider.arguments(s.OfferIn)
    @provider.response(201, s.OfferOut)
    @provider.alt_response(200, schema=s.OfferOut, description="A retry with the same Idempotency-Key and body")
    @provider.doc(**IDEMPOTENCY_DOC)
    @requires("provider")
    def post(self, terms, referral_id: UUID):
        """Make an offer (at most the line's maximum price; before the deadline)"""
        key = _idempotency_key()
        with _uow() as uow:
            referral, offer, created = handlers.submit_offer(
                uow, _actor(), referral_id, terms, idempotency_key=key,
                fingerprint=_fingerprint(referral_id) if key else None)
            return views.offer_view(referral, offer), 201 if created else 200

    @provider.arguments(Paging, location="query")
    @provider.response(200, s.OfferOut(many=True), headers=LINK_DOC)
    @requires("provider")
    def get(self, query, referral_id: UUID):
        """Your organisation's offers on this referral (live and withdrawn)"""
        page = Page.take(query)
        with _reading() as uow:
            pairs = handlers.offers_of_provider(uow, _actor(), referral_id=referral_id, limit=page.fetch,
                                                offset=page.offset)
            return page.respond(pairs, lambda pair: views.offer_view(*pair))


@provider.route("/referrals/<uuid:referral_id>/decline")
class ProviderDecline(MethodView):
    @provider.arguments(s.ReasonIn)
    @provider.response(200, s.ProviderReferralOut)
    @requires("provider")
    def post(self, data, referral_id: UUID):
        """Decline a referral, with a reason (the council learns where the market has gaps)"""
        actor = _actor()
        with _uow() as uow:
            referral = handlers.decline_referral(uow, actor, referral_id, data["reason"])
            return views.provider_view(referral, actor.provider_id, lines=handlers.lines_to_quote(uow, actor, referral))


@provider.route("/offers")
class ProviderOffers(MethodView):
    @provider.arguments(s.ProviderOfferQuery, location="query")
    @provider.response(200, s.OfferOut(many=True), headers=LINK_DOC)
    @requires("provider")
    def get(self, query):
        """Your organisation's offers"""
        page = Page.take(query)
        with _reading() as uow:
            pairs = handlers.offers_of_provider(uow, _actor(), **query, limit=page.fetch, offset=page.offset)
            return page.respond(pairs, lambda pair: views.offer_view(*pair))


@provider.route("/offers/<uuid:offer_id>")
class ProviderOffer(MethodView):
    @provider.response(200, s.OfferOut)
    @requires("provider")
    def get(self, offer_id: UUID):
        """One of your organisation's offers"""
        with _reading() as uow:
            return views.offer_view(*handlers.offer_of_provider(uow, _actor(), offer_id))

    @provider.arguments(s.OfferIn)
    @provider.response(200, s.OfferOut)
    @requires("provider")
    def put(self, terms, offer_id: UUID):
        """Change your live offer before the deadline"""
        with _uow() as uow:
            return views.offer_view(*handlers.change_offer(uow, _actor(), offer_id, terms))


@provider.route("/offers/<uuid:offer_id>/withdraw")
class ProviderWithdraw(MethodView):
    @provider.response(200, s.OfferOut)
    @requires("provider")
    def post(self, offer_id: UUID):
        """Withdraw your live offer before the deadline"""
        with _uow() as uow:
            return views.offer_view(*handlers.withdraw_offer(uow, _actor(), offer_id))


def _webhook_view(hook: dict, secret: str | None = None) -> dict:
    view = {**hook, "signature_header": webhooks.signature_description(hook["secret"])}
    view.pop("secret", None)
    if secret is not None:
        view["secret"] = secret
    return view


@provider.route("/webhook")
class ProviderWebhook(MethodView):
    @provider.arguments(s.WebhookIn)
    @provider.response(200, s.WebhookOut)
    @requires("provider")
    def put(self, data):
        """Register (or change) the URL new referrals are posted to; the secret is shown when issued"""
        with _uow() as uow:
            hook, secret = handlers.register_webhook(uow, _actor(), data["url"], rotate_secret=data["rotate_secret"])
            return _webhook_view(hook, secret)

    @provider.response(200, s.WebhookOut)
    @provider.alt_response(404, description="Your organisation has no webhook")
    @requires("provider")
    def get(self):
        """Your webhook (without its secret)"""
        with _reading() as uow:
            hook = webhooks.webhook_of(uow.session, _actor().provider_id)
            if hook is None:
                raise NotFound("your organisation has no webhook")
            return _webhook_view(hook)

    @provider.response(204)
    @provider.alt_response(404, description="Your organisation has no webhook")
    @requires("provider")
    def delete(self):
        """Stop webhook deliveries"""
        with _uow() as uow:
            handlers.remove_webhook(uow, _actor())


@provider.route("/webhook/deliveries")
class ProviderDeliveries(MethodView):
    @provider.arguments(s.DeliveryQuery, location="query")
    @provider.response(200, s.DeliveryOut(many=True), headers=LINK_DOC)
    @requires("provider")
    def get(self, query):
        """Deliveries to your webhook and their outcome; the body withheld once the referral is closed to you"""
        page = Page.take(query)
        query.pop("provider_id", None)  # only ever your own
        with _reading() as uow:
            return page.respond(handlers.webhook_deliveries_of_provider(uow, _actor(), **query, limit=page.fetch,
                                                                        offset=page.offset))


# --- oversight -------------------------------------------------------------------------------------

@oversight.route("/off-dps-exceptions")
class OffDpsExceptions(MethodView):
    @oversight.arguments(s.ExceptionQuery, location="query")
    @oversight.response(200, s.ExceptionOut(many=True), headers=LINK_DOC)
    @requires("manager")
    def get(self, query):
        """Off-DPS exceptions recorded by officers, newest first"""
        page = Page.take(query)
        with _reading() as uow:
            return page.respond(handlers.off_dps_exceptions(uow, **query, limit=page.fetch, offset=page.offset))


@oversight.route("/registry/memberships")
class Memberships(MethodView):
    @oversight.arguments(s.MembershipQuery, location="query")
    @oversight.response(200, s.MembershipOut(many=True), headers=LINK_DOC)
    @requires("officer", "manager")
    def get(self, query):
        """This service's copy of lot memberships (kept from the registry's events)"""
        page = Page.take(query)
        with _reading() as uow:
            return page.respond(uow.registry.rows(**query, limit=page.fetch, offset=page.offset))


@oversight.route("/webhook-deliveries")
class Deliveries(MethodView):
    @oversight.arguments(s.DeliveryQuery, location="query")
    @oversight.response(200, s.DeliveryOut(many=True), headers=LINK_DOC)
    @requires("manager")
    def get(self, query):
        """Every webhook delivery and its outcome"""
        page = Page.take(query)
        with _reading() as uow:
            return page.respond(webhooks.deliveries(uow.session, **query, limit=page.fetch, offset=page.offset))
