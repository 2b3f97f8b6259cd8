"""A malformed school calendar stops referrals at start, naming the setting,
rather than failing the first referral form that counts the sixth day."""

import dataclasses

import pytest

from shared.config import load_settings
from shared.service import Runtime, load_definition


@pytest.mark.parametrize("terms, closed, named", [
    ("2024-09-04", "", "DPS_TERM_DATES"),
    ("2024-09-04:2024-13-20", "", "DPS_TERM_DATES"),
    ("", "25/10/2024", "DPS_CLOSED_DATES"),
])
def test_a_malformed_school_calendar_stops_the_service_naming_it(tmp_path, terms, closed, named):
    settings = dataclasses.replace(load_settings("referrals"), database_url=f"sqlite:///{tmp_path}/r.sqlite3",
                                   term_dates=terms, closed_dates=closed)
    with pytest.raises(ValueError, match=named):
        Runtime(load_definition("referrals"), settings)


def test_a_well_formed_school_calendar_is_accepted(tmp_path):
    settings = dataclasses.replace(load_settings("referrals"), database_url=f"sqlite:///{tmp_path}/r.sqlite3",
                                   term_dates="2024-09-04:2024-12-20", closed_dates="2024-10-25")
    Runtime(load_definition("referrals"), settings).engine.dispose()
