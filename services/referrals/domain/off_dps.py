"""What an off-DPS exception must name before the manager can weigh it
(issue #16 item 5, DOMAIN.md *Referrals and offers*):

- the **provider**: its name, the kind of setting as the registry has it
  (`registered_school` with its URN, `fe_or_training_provider` with its
  UKPRN, or `unregistered`), and the full-time pupils of compulsory school age
  it declares it educates from every commissioner (the registration rule
  counts the whole roll; awards applies it);
- the **placement terms**: hours a week, start date, weekly cost in pence,
  weeks;
- the **minimum checks**: registration status checked, DBS confirmation,
  insurance confirmation, each a yes with who checked and when.

Every missing or wrong field is refused by name (422), all at once.  A check
answered "no" is refused too: an exception is recorded only once the checks
are done (the council's policy on exceptions).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from shared.errors import InvalidInput

SETTING_KINDS = ("registered_school", "fe_or_training_provider", "unregistered")
CHECKS = ("registration_status", "dbs", "insurance")
_URN, _UKPRN = re.compile(r"[0-9]{6}"), re.compile(r"[0-9]{8}")
MAX_HOURS, MAX_WEEKS, MAX_PUPILS = Decimal(168), 520, 10_000


@dataclass(frozen=True)
class OffDpsProvider:
    name: str
    setting_kind: str  # as the registry's setting_kind
    urn: str | None
    ukprn: str | None
    full_time_pupils: int  # declared: of compulsory school age, full-time, from every commissioner


@dataclass(frozen=True)
class OffDpsTerms:
    hours_per_week: Decimal
    start_date: date
    weekly_cost_pence: int
    weeks: int

    @property
    def total_pence(self) -> int:
        return self.weekly_cost_pence * self.weeks


@dataclass(frozen=True)
class Check:
    """One minimum check, confirmed: who checked and when."""

    by: str
    on: date


@dataclass(frozen=True)
class OffDpsDetails:
    provider: OffDpsProvider
    terms: OffDpsTerms
    checks: Mapping[str, Check]  # every one of CHECKS

    @classmethod
    def from_form(cls, form: Mapping) -> OffDpsDetails:
        """The details from the officer's form (plain values), or every refused field by name."""
        problems: dict[str, list[str]] = {}
        provider = _provider(_part(form, "provider", problems), problems)
        terms = _terms(_part(form, "terms", problems), problems)
        checks = _checks(_part(form, "checks", problems), problems)
        if problems:
            raise InvalidInput("the off-DPS exception is incomplete: "
                               + "; ".join(f"{k}: {', '.join(v)}" for k, v in problems.items()), errors=problems)
        return cls(provider, terms, checks)


def _part(form: Mapping, name: str, problems: dict) -> Mapping:
    part = form.get(name) if isinstance(form, Mapping) else None
    if not isinstance(part, Mapping):
        problems.setdefault(name, []).append("required")
        return {}
    return part


def _text(part: Mapping, key: str, path: str, problems: dict) -> str | None:
    value = part.get(key)
    if not isinstance(value, str) or not value.strip():
        if path.split(".")[0] in problems and not part:
            return None  # the whole part is missing: said once
        problems.setdefault(path, []).append("required")
        return None
    return value.strip()


def _provider(part: Mapping, problems: dict) -> OffDpsProvider | None:
    name = _text(part, "name", "provider.name", problems)
    kind = _text(part, "setting_kind", "provider.setting_kind", problems)
    if kind is not None and kind not in SETTING_KINDS:
        problems.setdefault("provider.setting_kind", []).append(f"one of {', '.join(SETTING_KINDS)}")
    urn, ukprn = part.get("urn") or None, part.get("ukprn") or None
    if urn is not None and not (isinstance(urn, str) and _URN.fullmatch(urn)):
        problems.setdefault("provider.urn", []).append("the URN must be exactly six digits")
    if ukprn is not None and not (isinstance(ukprn, str) and _UKPRN.fullmatch(ukprn)):
        problems.setdefault("provider.ukprn", []).append("the UKPRN must be exactly eight digits")
    if kind == "registered_school" and urn is None:
        problems.setdefault("provider.urn", []).append("a registered school has a URN: required")
    if kind == "fe_or_training_provider" and ukprn is None:
        problems.setdefault("provider.ukprn", []).append("a college or training provider has a UKPRN: required")
    pupils = _whole(part, "full_time_pupils", "provider.full_time_pupils", 0, MAX_PUPILS, problems)
    if name is None or kind is None or pupils is None:
        return None
    return OffDpsProvider(name, kind, urn, ukprn, pupils)


def _whole(part: Mapping, key: str, path: str, low: int, high: int, problems: dict) -> int | None:
    value = part.get(key)
    if value is None:
        if part:
            problems.setdefault(path, []).append("required")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.setdefault(path, []).append(f"a whole number from {low} to {high}")
        return None
    return value


def _terms(part: Mapping, problems: dict) -> OffDpsTerms | None:
    hours = part.get("hours_per_week")
    if hours is None:
        if part:
            problems.setdefault("terms.hours_per_week", []).append("required")
    else:
        try:
            hours = Decimal(str(hours))
        except InvalidOperation:
            hours = None
        if isinstance(part.get("hours_per_week"), bool) or hours is None or not 0 < hours <= MAX_HOURS:
            problems.setdefault("terms.hours_per_week", []).append(f"more than 0 and at most {MAX_HOURS}")
            hours = None
    start = part.get("start_date")
    if not isinstance(start, date):
        if part:
            problems.setdefault("terms.start_date", []).append("required: a date")
        start = None
    cost = _whole(part, "weekly_cost_pence", "terms.weekly_cost_pence", 0, 10**9, problems)
    weeks = _whole(part, "weeks", "terms.weeks", 1, MAX_WEEKS, problems)
    if hours is None or start is None or cost is None or weeks is None:
        return None
    return OffDpsTerms(hours, start, cost, weeks)


def _checks(part: Mapping, problems: dict) -> dict[str, Check]:
    checks = {}
    for name in CHECKS:
        path = f"checks.{name}"
        check = part.get(name)
        if not isinstance(check, Mapping):
            if part:
                problems.setdefault(path, []).append("required: confirmed, with who checked and when")
            continue
        if check.get("confirmed") is not True:
            problems.setdefault(f"{path}.confirmed", []).append(
                "must be confirmed before an off-DPS exception is recorded (the council's policy on exceptions)")
        by = _text(check, "by", f"{path}.by", problems)
        on = check.get("on")
        if not isinstance(on, date):
            problems.setdefault(f"{path}.on", []).append("required: a date")
        elif by is not None and check.get("confirmed") is True:
            checks[name] = Check(by, on)
    return checks


def details_fields(details: OffDpsDetails | None) -> dict | None:
    """The details as plain values (Decimal hours, dates): what views and events dump."""
    if details is None:
        return None
    p, t = details.provider, details.terms
    return {
        "provider": {"name": p.name, "setting_kind": p.setting_kind, "urn": p.urn, "ukprn": p.ukprn,
                     "full_time_pupils": p.full_time_pupils},
        "terms": {"hours_per_week": t.hours_per_week, "start_date": t.start_date,
                  "weekly_cost_pence": t.weekly_cost_pence, "weeks": t.weeks},
        "checks": {name: {"confirmed": True, "by": c.by, "on": c.on} for name, c in details.checks.items()},
    }


def details_data(details: OffDpsDetails | None) -> dict | None:
    """The details as JSON (stored): hours as text, dates in ISO 8601."""
    data = details_fields(details)
    if data is None:
        return None
    terms = data["terms"]
    terms.update(hours_per_week=str(terms["hours_per_week"]), start_date=terms["start_date"].isoformat())
    for check in data["checks"].values():
        check["on"] = check["on"].isoformat()
    return data


def details_from_data(data: Mapping | None) -> OffDpsDetails | None:
    """Back from `details_data` (what was stored)."""
    if data is None:
        return None
    p, t = data["provider"], data["terms"]
    return OffDpsDetails(
        OffDpsProvider(p["name"], p["setting_kind"], p.get("urn"), p.get("ukprn"), p["full_time_pupils"]),
        OffDpsTerms(Decimal(t["hours_per_week"]), date.fromisoformat(t["start_date"]), t["weekly_cost_pence"],
                    t["weeks"]),
        {name: Check(c["by"], date.fromisoformat(c["on"])) for name, c in data["checks"].items()})
