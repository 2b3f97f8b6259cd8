"""A provider user's pages: the invitations on their lots (the pseudonymised profile) and their offers.

Each view reads as GOV.UK's Flask frontends do: fetch through the services client, build the form, render;
on a refusal (a 4xx), put its field errors on the form and show it again with what was typed."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from services.portal.client import Refused, services
from services.portal.filters import pounds
from services.portal.forms import OfferForm, error_summary, show_refusal

blueprint = Blueprint("provider", __name__, url_prefix="/provider")


@blueprint.before_request
def providers_only():
    if g.get("person") is None:
        abort(401)
    if not g.person.is_provider:
        abort(403)


@blueprint.route("/invitations")
def invitations():
    referrals = services().get("referrals", "/v1/provider/referrals?page_size=100")
    return render_template("provider/invitations.html", referrals=referrals)


def _referral(referral_id) -> dict:
    try:
        return services().get("referrals", f"/v1/provider/referrals/{referral_id}")
    except Refused as refused:
        if refused.status == 404:
            abort(404)
        raise


@blueprint.route("/invitations/<uuid:referral_id>")
def invitation(referral_id):
    return render_template("provider/invitation.html", referral=_referral(referral_id))


@blueprint.route("/invitations/<uuid:referral_id>/offer", methods=["GET", "POST"])
def make_offer(referral_id):
    referral = _referral(referral_id)
    form = OfferForm()
    form.pricing_line_id.choices = [
        (line["pricing_line_id"], f"{line['description']}: at most {pounds(line['maximum_price_pence'])} a "
                                  f"{line['unit']}") for line in referral.get("my_pricing_lines", [])]
    questions = referral.get("questions", [])
    answers = {q["question_id"]: request.form.get(f"answer-{q['question_id']}", "") for q in questions}
    answer_errors: dict[str, str] = {}
    unplaced: list[str] = []
    if form.validate_on_submit():
        try:
            offer = services().post("referrals", f"/v1/provider/referrals/{referral_id}/offers",
                                    form.terms({k: v for k, v in answers.items() if v.strip()}))
            return redirect(url_for("provider.offer_made", referral_id=referral_id, offer_id=offer["offer_id"]))
        except Refused as refused:
            answer_errors = {qid: reasons[0] for qid, reasons in _answer_errors(refused.field_errors)}
            rest = Refused(refused.status, refused.message,
                           {k: v for k, v in refused.field_errors.items() if k != "answers"})
            unplaced = show_refusal(form, rest) if rest.field_errors or not answer_errors else []
    errors = error_summary(form, unplaced) + [{"text": text, "href": f"#answer-{qid}"}
                                              for qid, text in answer_errors.items()]
    return render_template("provider/offer.html", referral=referral, form=form, answers=answers,
                           answer_errors=answer_errors, errors=errors)


def _answer_errors(errors: dict):
    for qid, reasons in (errors.get("answers") or {}).items():
        yield qid, reasons if isinstance(reasons, list) else [str(reasons)]




@blueprint.route("/invitations/<uuid:referral_id>/offers/<uuid:offer_id>")
def offer_made(referral_id, offer_id):
    offer = services().get("referrals", f"/v1/provider/offers/{offer_id}")
    return render_template("provider/offer_made.html", offer=offer, referral_id=referral_id)
