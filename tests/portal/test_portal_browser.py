"""The provider's offer journey in a real browser: Debian's Chromium driven by Playwright, against the portal
and the real referrals service, each served over HTTP on a port of its own.  Every page is checked with
axe-core (the npm package the set-up installs, pinned): no violation of WCAG 2.2 A and AA.  The journey is
done with the keyboard alone; each page's screenshot is written to tests/portal/screenshots/ (not kept)."""

from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from werkzeug.serving import make_server

from services.portal.client import http_transport
from tests.api.referrals.referrals_support import IDENTIFYING, admit, published_referral

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AXE = Path(__file__).parents[2] / "services" / "portal" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = Path(__file__).parent / "screenshots"



@contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _accessible(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA)
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert violations == [], f"{name}: {violations}"


def test_a_provider_makes_an_offer_with_the_keyboard_alone_and_every_page_is_accessible(
        referrals_stack, portal_settings):
    assert CHROMIUM, "the browser tests need Debian's Chromium: apt-get install chromium (make setup-test does)"
    assert AXE.exists(), "axe-core is not installed: run scripts/setup.sh test (npm ci in services/portal)"
    from playwright.sync_api import sync_playwright

    from services.portal.app import create_app

    runtime, referrals = referrals_stack
    provider_id = admit(runtime)
    referral = published_referral(referrals.test_client())
    SCREENSHOTS.mkdir(exist_ok=True)
    with serving(referrals) as referrals_url:
        portal = create_app(replace(portal_settings, service_urls={"referrals": referrals_url}),
                            transport=http_transport({"referrals": referrals_url}))
        with serving(portal) as portal_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            # the portal's own pages break none of its Content-Security-Policy
            strict = browser.new_context().new_page()
            refused: list[str] = []
            strict.on("console", lambda message: refused.append(message.text)
                      if "Content Security Policy" in message.text else None)
            strict.goto(f"{portal_url}/")
            assert strict.evaluate("document.body.classList.contains('js-enabled')"), "the hashed script ran"
            assert refused == []
            # axe-core is added to each page by the test: the portal's own CSP would refuse it
            page = browser.new_context(bypass_csp=True, java_script_enabled=True).new_page()
            try:
                page.goto(f"{portal_url}/")
                _accessible(page, "start")
                page.goto(f"{portal_url}/sign-in/development")
                _accessible(page, "sign-in-development")
                page.get_by_label("A user of a provider", exact=True).check()
                page.get_by_label("Provider id (a user of a provider)").fill(str(provider_id))
                page.get_by_role("button", name="Sign in").press("Enter")

                page.wait_for_url("**/provider/invitations")
                _accessible(page, "invitations")
                page.get_by_role("link", name="Year 9, age 14").focus()
                page.keyboard.press("Enter")
                page.wait_for_url(f"**/provider/invitations/{referral['referral_id']}")
                _accessible(page, "invitation")
                assert not [w for w in IDENTIFYING if w in page.content()], "no child identity on a provider page"
                page.get_by_role("button", name="Make an offer").focus()
                page.keyboard.press("Enter")

                page.wait_for_url("**/offer")
                _accessible(page, "offer")
                # the keyboard alone: tab to each field, type, choose radios with the arrow keys and space
                page.get_by_label("Group place per week").focus()
                page.keyboard.press("Space")
                _type(page, "Price per unit, in pounds", "612.00")  # above the line's maximum: refused
                _type(page, "Units per week", "1")
                _type(page, "Weeks", "12")
                _type(page, "Day", "27")
                _type(page, "Month", "1")
                _type(page, "Year", "2025")
                _type(page, "Where it is delivered", "Riverside Centre")
                _type(page, "Postcode of the delivery site", "SE15 5AB")
                _type(page, "How your offer meets the child's needs", "Groups of four with an SEMH mentor.")
                page.get_by_label("Yes", exact=True).focus()
                page.keyboard.press("Space")
                for question in referral["questions"]:
                    _type(page, question["text"], "Ten years running an SEMH provision")
                page.get_by_role("button", name="Send the offer").focus()
                page.keyboard.press("Enter")

                page.wait_for_selector(".govuk-error-summary")
                _accessible(page, "offer-refused")
                assert page.get_by_label("Where it is delivered", exact=True).input_value() == "Riverside Centre"
                page.locator(".govuk-error-summary a").first.focus()
                page.keyboard.press("Enter")  # the summary's link takes the focus to the field
                _type(page, "Price per unit, in pounds", "450.00", clear=True)
                page.get_by_role("button", name="Send the offer").focus()
                page.keyboard.press("Enter")

                page.wait_for_selector(".govuk-panel")
                assert "£5,400.00" in page.content()
                _accessible(page, "offer-sent")
            finally:
                page.screenshot(path=str(SCREENSHOTS / "last.png"), full_page=True)
                browser.close()


def _type(page, label: str, text: str, clear: bool = False) -> None:
    page.get_by_label(label, exact=True).focus()
    if clear:
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
    page.keyboard.type(text)
