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


def exception_event(referral_id, *, at: str = "2025-01-29T10:00:00+00:00", team: str = "exclusions",
                    lot: int = 2, ehcp: bool = False, looked_after: bool = False, full_time: bool = False,
                    child_ref=None, **parts) -> dict:
    """The data of off_dps_exception.recorded, as referrals publishes it (parts as `off_dps_json`)."""
    body = off_dps_json(**parts)
    return {"referral_id": str(referral_id), "dps_id": "8d7f4c1e-2b6a-4e0f-9c3d-5a1b2c3d4e01", "lot": lot,
            "team": team, "reason": body.pop("reason"), "recorded_by": "officer-1",
            "child_ref": str(child_ref) if child_ref else "5b0c7e52-3c39-4b8e-a3c1-2f6f1d9a7e10",
            "reason_for_ap": "permanent_exclusion", "ehcp": ehcp, "looked_after": looked_after,
            "full_time": full_time, **body, "at": at}
