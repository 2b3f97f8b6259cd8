"""The officer is shown, before anything is sent, every place where the
profile's words identify the child, and why (issue #17 item 2); nothing is
stored from a refused form."""

from __future__ import annotations

import sqlalchemy as sa

from services.referrals import models
from tests.api.referrals.referrals_support import CHILD, OFFICER, referral_form


def test_a_first_name_and_a_written_date_of_birth_are_each_shown_with_where_and_why(rt, client):
    first_name = CHILD["name"].split()[0]
    year, month, day = CHILD["date_of_birth"].split("-")
    form = referral_form(profile_changes={
        "needs_and_risks": f"{first_name.lower()} is anxious in groups",
        "aims": f"Return to school; born {int(day)}/{int(month)}/{year}"})
    response = client.post("/v1/referrals", json=form, headers=OFFICER)

    assert response.status_code == 422
    places = response.json["errors"]["json"]["profile"]
    assert places["needs_and_risks"] == [
        "names the child (characters 1 to 7): the profile providers see is pseudonymised "
        "and must not identify the child"]
    assert "gives the child's date of birth" in places["aims"][0]
    body = response.get_data(as_text=True)
    assert first_name not in body and CHILD["date_of_birth"] not in body  # the error never repeats them
    with rt.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(models.referrals)).scalar() == 0
