"""An off-DPS exception's form, as the officer completes it (issue #16 item 5):
the provider, the placement's terms, the minimum checks.  `off_dps_json` is
the request body; `off_dps_form` the same with dates, as a handler takes it."""

from __future__ import annotations

from copy import deepcopy
from datetime import date

OFF_DPS_JSON = {
    "reason": "No provider on the DPS can meet the needs within travelling distance",
    "provider": {"name": "Riverside Tuition", "setting_kind": "unregistered", "urn": None, "ukprn": None,
                 "full_time_pupils": 2},
    "terms": {"hours_per_week": 15, "start_date": "2025-02-03", "weekly_cost_pence": 45000, "weeks": 12},
    "checks": {name: {"confirmed": True, "by": "officer-1", "on": "2025-01-20"}
               for name in ("registration_status", "dbs", "insurance")},
}


def off_dps_json(**parts) -> dict:
    """The request body; each keyword replaces a part (`provider={...}` merges into it, None drops it)."""
    body = deepcopy(OFF_DPS_JSON)
    for name, value in parts.items():
        if value is None:
            body.pop(name, None)
        elif isinstance(value, dict) and isinstance(body.get(name), dict):
            body[name] = {**body[name], **value}
        else:
            body[name] = value
    return body


def off_dps_form(**parts) -> dict:
    """The form as a handler takes it (dates as dates), without the reason."""
    form = off_dps_json(**parts)
    form.pop("reason", None)
    terms = form.get("terms")
    if isinstance(terms, dict) and isinstance(terms.get("start_date"), str):
        terms["start_date"] = date.fromisoformat(terms["start_date"])
    for check in (form.get("checks") or {}).values():
        if isinstance(check, dict) and isinstance(check.get("on"), str):
            check["on"] = date.fromisoformat(check["on"])
    return form
