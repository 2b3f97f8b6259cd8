"""Subject access answers with stored values as JSON carries them: a value object stored in a
column (referrals' pseudonymised profile, with enums as keys and values) included; it was a 500."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import date

from shared.subject_access import jsonable


class Reason(enum.Enum):
    EXCLUSION = "permanent_exclusion"


@dataclass(frozen=True)
class Stored:
    reason: Reason
    measures: dict
    start: date


def test_a_stored_value_object_becomes_plain_json():
    value = jsonable({"profile": Stored(Reason.EXCLUSION, {Reason.EXCLUSION: "above 90%"}, date(2025, 1, 27))})
    assert value == {"profile": {"reason": "permanent_exclusion", "measures": {"permanent_exclusion": "above 90%"},
                                 "start": "2025-01-27"}}
    json.dumps(value)
