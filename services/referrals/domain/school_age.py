"""Compulsory school age: the one place it is decided, from the child's date
of birth (which only referrals holds; the events carry the answer, never the
date).

- A child reaches compulsory school age on the first *prescribed day* on or
  after their fifth birthday: 31 August, 31 December or 31 March (Education
  Act 1996 s.8; the Education (Start of Compulsory School Age) Order 1998), so
  in practice from the start of the school term after it.
- A child ceases to be of compulsory school age after the school leaving
  date of the school year (1 September to 31 August) in which they turn 16:
  the last Friday in June (Education (School Leaving Date) Order 1997).  A
  child whose sixteenth birthday falls in July or August leaves on that
  Friday too, before the birthday.

The registration rule (awards) counts only pupils of compulsory school age.
"""

from __future__ import annotations

from datetime import date, timedelta

PRESCRIBED_DAYS = ((3, 31), (8, 31), (12, 31))  # (month, day), in calendar order
FRIDAY = 4


def _birthday(date_of_birth: date, years: int) -> date:
    """The birthday `years` on (29 February falls on 1 March in a common year)."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + years)
    except ValueError:
        return date(date_of_birth.year + years, 3, 1)


def compulsory_school_age_starts(date_of_birth: date) -> date:
    """The first prescribed day (31 March, 31 August, 31 December) on or after the fifth birthday."""
    fifth = _birthday(date_of_birth, 5)
    return next(day for month, dom in PRESCRIBED_DAYS if (day := date(fifth.year, month, dom)) >= fifth)


def last_friday_of_june(year: int) -> date:
    end = date(year, 6, 30)
    return end - timedelta(days=(end.weekday() - FRIDAY) % 7)


def compulsory_school_age_ends(date_of_birth: date) -> date:
    """The school leaving date: the last Friday in June of the school year in which the child turns 16
    (the last day the child is of compulsory school age)."""
    sixteenth = _birthday(date_of_birth, 16)
    school_year_ends = sixteenth.year + (1 if sixteenth.month >= 9 else 0)
    return last_friday_of_june(school_year_ends)


def of_compulsory_school_age(date_of_birth: date, on: date) -> bool:
    """Whether the child is of compulsory school age on `on`."""
    return compulsory_school_age_starts(date_of_birth) <= on <= compulsory_school_age_ends(date_of_birth)
