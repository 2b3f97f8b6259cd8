"""The school calendar is configuration, one for every service: the council's terms from a file
(DPS_SCHOOL_CALENDAR_FILE), by default the terms shipped with the code; overlapping terms are refused
at start, naming both terms."""

import dataclasses
from datetime import date

import pytest

from shared.calendar import DEFAULT_SCHOOL_CALENDAR, WORKING_DAYS, Calendar, Term, school_calendar
from shared.catalogue import SERVICES
from shared.config import load_settings
from shared.service import Runtime, load_definition

HEADER = "kind,name,start,end\n"


def _file(tmp_path, body: str, name: str = "terms.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_the_default_is_the_shipped_terms_naming_their_source():
    calendar = school_calendar()
    assert "Source:" in DEFAULT_SCHOOL_CALENDAR.read_text()
    assert len(calendar.terms) == 18  # 2025-26, 2026-27 and 2027-28, each in six half terms
    assert calendar.is_open(date(2025, 10, 24)) and not calendar.is_open(date(2025, 10, 27))  # half term
    assert not calendar.is_open(date(2025, 12, 22))  # Christmas holidays
    assert not calendar.is_open(date(2026, 8, 3))  # summer holidays
    assert calendar.is_open(date(2028, 7, 21)) and not calendar.is_open(date(2028, 7, 24))


def test_outside_the_school_years_of_the_file_every_working_day_counts():
    calendar = school_calendar()
    assert calendar.is_open(date(2025, 8, 4)) and calendar.is_open(date(2028, 9, 4))  # before and after
    assert not calendar.is_open(date(2028, 8, 28))  # the bank holiday: never a school day


def test_a_file_replaces_the_default_with_its_terms_and_closures(tmp_path):
    calendar = school_calendar(_file(tmp_path, "term,Autumn,2024-09-04,2024-12-20\n"
                                               "term,Spring,2025-01-06,2025-04-04\n"
                                               "closed,INSET day,2024-10-25,2024-10-25\n"))
    assert calendar.is_open(date(2024, 10, 24)) and not calendar.is_open(date(2024, 10, 25))
    assert not calendar.is_open(date(2024, 12, 23))  # not in a term
    # Thu 19 Dec (1), Fri 20 (2), Mon 6 Jan (3), Tue 7 (4), Wed 8 (5), Thu 9 (6)
    assert calendar.nth_open_day(date(2024, 12, 19), 6) == date(2025, 1, 9)


def test_overlapping_terms_are_refused_naming_both(tmp_path):
    path = _file(tmp_path, "term,Autumn 2024,2024-09-04,2024-12-20\nterm,Spring 2025,2024-12-16,2025-04-04\n")
    with pytest.raises(ValueError) as refused:
        school_calendar(path)
    message = str(refused.value)
    assert "DPS_SCHOOL_CALENDAR_FILE" in message and "overlap" in message
    assert "Autumn 2024 (2024-09-04 to 2024-12-20)" in message and "Spring 2025 (2024-12-16 to 2025-04-04)" in message


def test_terms_given_in_code_may_not_overlap_either():
    with pytest.raises(ValueError, match="overlap"):
        Calendar(terms=(Term(date(2025, 1, 6), date(2025, 4, 4), "Spring"),
                        Term(date(2025, 4, 1), date(2025, 7, 18), "Summer")))


@pytest.mark.parametrize("body, named", [
    ("term,Autumn,2024-09-04\n", "line 2"),
    ("term,Autumn,2024-12-20,2024-09-04\n", "line 2"),
    ("holiday,Autumn,2024-09-04,2024-12-20\n", "kind must be term or closed"),
    ("term,Autumn,04/09/2024,2024-12-20\n", "line 2"),
])
def test_a_malformed_file_is_refused_naming_the_setting_and_the_line(tmp_path, body, named):
    with pytest.raises(ValueError, match="DPS_SCHOOL_CALENDAR_FILE") as refused:
        school_calendar(_file(tmp_path, body))
    assert named in str(refused.value)


def test_a_missing_file_or_header_is_refused(tmp_path):
    with pytest.raises(ValueError, match="DPS_SCHOOL_CALENDAR_FILE"):
        school_calendar(tmp_path / "nowhere.csv")
    (tmp_path / "bare.csv").write_text("term,Autumn,2024-09-04,2024-12-20\n")
    with pytest.raises(ValueError, match="header"):
        school_calendar(tmp_path / "bare.csv")


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_stops_at_start_on_overlapping_terms(tmp_path, service):
    path = _file(tmp_path, "term,Autumn,2024-09-04,2024-12-20\nterm,Autumn again,2024-12-20,2025-01-10\n")
    settings = dataclasses.replace(load_settings(service), database_url=f"sqlite:///{tmp_path}/{service}.sqlite3",
                                   school_calendar_file=str(path))
    with pytest.raises(ValueError, match="Autumn again"):
        Runtime(load_definition(service), settings)


def test_a_service_counts_in_the_calendar_of_its_settings(tmp_path):
    path = _file(tmp_path, "term,Autumn,2024-09-04,2024-12-20\n")
    settings = dataclasses.replace(load_settings("tracking"), database_url=f"sqlite:///{tmp_path}/t.sqlite3",
                                   school_calendar_file=str(path))
    runtime = Runtime(load_definition("tracking"), settings)
    assert runtime.calendar.terms == (Term(date(2024, 9, 4), date(2024, 12, 20), "Autumn"),)
    runtime.engine.dispose()
    assert WORKING_DAYS.terms == ()


def test_six_school_weeks_skip_a_holiday_week():
    calendar = school_calendar()
    # Monday 13 October 2025: half term is 27-31 October, so six school weeks end seven weeks on
    assert calendar.open_weeks_after(date(2025, 10, 13), 6) == date(2025, 12, 1)
    assert WORKING_DAYS.open_weeks_after(date(2025, 10, 13), 6) == date(2025, 11, 24)
    # from 8 December 2025: 8, 15 (term ends 19th), two weeks of Christmas, then 5, 12, 19, 26 January
    assert calendar.open_weeks_after(date(2025, 12, 8), 6) == date(2026, 2, 2)
