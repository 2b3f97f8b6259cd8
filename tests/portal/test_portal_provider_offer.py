"""The first provider journey through the portal, against the real referrals service: a provider user signs
in, sees its invitations with the pseudonymised profile, and makes an offer against its pricing lines; a
refusal by referrals (422) becomes the Design System's error summary, with nothing typed lost."""

from __future__ import annotations

import html
import re

from tests.api.referrals.referrals_support import (
    IDENTIFYING,
    admit,
    line_id,
    published_referral,
)
from tests.portal.conftest import csrf_of, portal_client, sign_in, transport_to


def _offer_form(provider_id, page: str, **changes) -> dict:
    form = {"csrf_token": csrf_of(page), "pricing_line_id": str(line_id(provider_id)), "unit_price": "450.00",
            "units_per_week": "1", "weeks": "12", "proposed_start-day": "27",
            "proposed_start-month": "1", "proposed_start-year": "2025",
            "delivery_site": "Riverside Centre", "delivery_postcode": "SE15 5AB",
            "how_it_meets_needs": "Groups of four with a trained SEMH mentor.", "place_available": "yes"}
    for qid in re.findall(r'name="answer-([0-9a-f-]{36})"', page):
        form[f"answer-{qid}"] = "Ten years running an SEMH provision"
    form.update(changes)
    return form


def _signed_in_and_invited(referrals_stack, portal_settings):
    """A provider admitted to lot 1, a referral published on it, and a user of the provider signed in."""
    runtime, referrals = referrals_stack
    provider_id = admit(runtime)
    referral = published_referral(referrals.test_client())
    portal = portal_client(portal_settings, transport_to({"referrals": referrals}))
    sign_in(portal, "provider", provider_id=str(provider_id))
    return portal, provider_id, referral


def test_a_provider_sees_its_invitation_and_makes_an_offer(referrals_stack, portal_settings):
    portal, provider_id, referral = _signed_in_and_invited(referrals_stack, portal_settings)
    listing = portal.get("/provider/invitations").get_data(as_text=True)
    assert "Your invitations" in listing and referral["referral_id"] in listing

    page = portal.get(f"/provider/invitations/{referral['referral_id']}").get_data(as_text=True)
    assert "Social, emotional and mental health" in html.unescape(page) and "Make an offer" in page
    assert not [word for word in IDENTIFYING if word in page], "no child identity on a provider page"

    offer_page = portal.get(f"/provider/invitations/{referral['referral_id']}/offer").get_data(as_text=True)
    assert "Group place per week: at most £500.00 a week" in html.unescape(offer_page)  # its own pricing lines
    response = portal.post(f"/provider/invitations/{referral['referral_id']}/offer",
                           data=_offer_form(provider_id, offer_page))
    assert response.status_code == 302
    made = portal.get(response.headers["Location"]).get_data(as_text=True)
    assert "Offer sent" in made and "£5,400.00" in html.unescape(made)


def _at_the_offer_page(referrals_stack, portal_settings):
    """A provider user signed in, on the offer page of a referral they were invited to."""
    portal, provider_id, referral = _signed_in_and_invited(referrals_stack, portal_settings)
    offer_page = portal.get(f"/provider/invitations/{referral['referral_id']}/offer").get_data(as_text=True)
    return portal, provider_id, referral, offer_page


def test_a_price_above_the_lines_maximum_is_shown_in_the_error_summary_with_what_was_typed(
        referrals_stack, portal_settings):
    portal, provider_id, referral, offer_page = _at_the_offer_page(referrals_stack, portal_settings)

    response = portal.post(f"/provider/invitations/{referral['referral_id']}/offer",
                           data=_offer_form(provider_id, offer_page, unit_price="612.34",
                                            delivery_site="Willow House"))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "govuk-error-summary" in page and "There is a problem" in page
    assert 'href="#unit_price"' in page and "maximum" in page  # referrals' own reason, linked to the field
    assert 'value="612.34"' in page and 'value="Willow House"' in page  # nothing typed is lost
    assert page.startswith("<!DOCTYPE html>") and "<title>Error: " in page


def test_a_missing_answer_is_refused_on_the_page_before_any_call(referrals_stack, portal_settings):
    portal, provider_id, referral, offer_page = _at_the_offer_page(referrals_stack, portal_settings)
    page = portal.post(f"/provider/invitations/{referral['referral_id']}/offer",
                       data=_offer_form(provider_id, offer_page, weeks="")).get_data(as_text=True)
    assert 'href="#weeks"' in page and "Enter how many weeks" in page


def test_a_council_officer_is_not_shown_provider_pages(referrals_stack, portal_settings):
    _, referrals = referrals_stack
    portal = portal_client(portal_settings, transport_to({"referrals": referrals}))
    sign_in(portal, "officer", team="exclusions")
    assert portal.get("/provider/invitations").status_code == 403


def test_a_service_that_does_not_answer_gives_a_page_saying_so(referrals_stack, portal_settings):
    from services.portal.client import ServiceDown

    def down(*args):
        raise ServiceDown("referrals")

    portal = portal_client(portal_settings, down)
    sign_in(portal, "provider", provider_id="3f0c4a8e-1b7d-4c55-9a43-0f2b9d1e6a11")
    response = portal.get("/provider/invitations")
    assert response.status_code == 503 and "referrals service is not answering" in response.get_data(as_text=True)
