"""Each service's subject access endpoint (issue #17 item 4): the manager only;
404 for a child the service holds nothing about; what it holds about that
child and nothing of another; the request recorded with who made it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.web import create_app
from tests.support.runtime import auth, build_runtime

MANAGER = auth("manager", sub="vls-manager")


def _app(service, tmp_path):
    runtime = build_runtime(service, f"sqlite:///{tmp_path}/{service}.sqlite3", "amqp://unused//")
    runtime.clock = lambda: datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
    return runtime, create_app(runtime.definition, runtime.settings, runtime).test_client()


@pytest.mark.parametrize("service", ["referrals", "awards", "tracking"])
def test_only_the_manager_asks_and_an_unknown_child_is_404(service, tmp_path):
    runtime, client = _app(service, tmp_path)
    child = uuid.uuid4()
    assert client.get(f"/v1/subject-access/{child}", headers=auth("officer", team="exclusions")).status_code == 403
    assert client.get(f"/v1/subject-access/{child}").status_code == 401
    response = client.get(f"/v1/subject-access/{child}", headers=MANAGER)
    assert response.status_code == 404 and str(child) in response.json["message"]
    runtime.engine.dispose()


def test_referrals_answers_with_one_childs_identity_and_referrals_and_records_the_request(tmp_path):
    from tests.api.referrals.referrals_support import CHILD, OFFICER, create, referral_form

    runtime, client = _app("referrals", tmp_path)
    mine = create(client, referral_form(), headers=OFFICER)
    other_form = referral_form()
    other_form["child"] = {**CHILD, "upn": "B123456789012", "name": "Another Person"}
    other = create(client, other_form, headers=OFFICER)

    response = client.get(f"/v1/subject-access/{mine['child_ref']}", headers=MANAGER)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["service"], body["child_ref"], body["made_by"]) == ("referrals", mine["child_ref"], "vls-manager")
    records = body["records"]
    assert [i["upn"] for i in records["identity"]] == [CHILD["upn"]]
    assert [r["id"] for r in records["referrals"]] == [mine["referral_id"]]
    assert "referral.created" in [a["action"] for a in records["audit"]]
    text = response.get_data(as_text=True)
    assert other["referral_id"] not in text and "B123456789012" not in text and "Another Person" not in text

    audit = client.get(f"/v1/audit?subject_type=child&subject_id={mine['child_ref']}", headers=MANAGER).json
    assert [(e["action"], e["actor"]) for e in audit if e["action"] == "subject_access.made"] == [
        ("subject_access.made", "vls-manager")]
    runtime.engine.dispose()


def test_the_readable_page_escapes_what_it_shows():
    from shared.subject_access import render_html

    page = render_html({"child_ref": "c1", "services": {
        "referrals": {"made_at": "2025-01-15T10:00:00+00:00", "made_by": "m",
                      "records": {"identity": [{"name": "<script>alert(1)</script>", "upn": "A1"}]}},
        "provider_registry": None}})
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "This service holds nothing about this child." in page


def test_the_registry_holds_nothing_about_children_and_has_no_such_endpoint(tmp_path):
    runtime, client = _app("provider_registry", tmp_path)
    assert client.get(f"/v1/subject-access/{uuid.uuid4()}", headers=MANAGER).status_code == 404
    runtime.engine.dispose()


def test_the_command_needs_a_managers_token(monkeypatch, capsys):
    from shared.cli import main

    monkeypatch.delenv("DPS_TOKEN", raising=False)
    assert main(["subject-access", str(uuid.uuid4())]) == 2
    assert "DPS_TOKEN" in capsys.readouterr().err
