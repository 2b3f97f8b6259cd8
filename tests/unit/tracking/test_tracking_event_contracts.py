"""What tracking publishes carries every field docs/events.md promises for
`dps.tracking`, in the promised shapes, and never the child's reference or
anyone's notes."""

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

from services.tracking import messages
from services.tracking.domain import Actor, AttendanceReturn, Placement
from shared.unit_of_work import Message

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
OFFICER = Actor("officer.jones")
PROVIDER_ID = uuid4()
PROVIDER = Actor("provider.user", provider_id=PROVIDER_ID)
EVENTS_MD = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def promised_fields() -> dict[str, set[str]]:
    """type -> field names, read from the dps.tracking table of docs/events.md."""
    text = EVENTS_MD.read_text().split("## dps.tracking", 1)[1].split("\n## ", 1)[0]
    promised = {}
    for line in text.splitlines():
        match = re.match(r"\| `([a-z_.]+)` \| (.+) \|$", line.strip())
        if match:
            fields = re.sub(r"\([^)]*\)|\{[^}]*\}|\[[^\]]*\]|`", "", match.group(2))
            promised[match.group(1)] = {f.strip() for f in fields.split(",") if f.strip()}
    return promised


def everything_published() -> dict[str, dict]:
    child = uuid4()
    placement = Placement.from_call_off(
        placement_id=uuid4(), referral_id=uuid4(), child_ref=child, provider_id=PROVIDER_ID, lot=1,
        commissioning_team="exclusions", reason_for_ap="permanent exclusion", hours_per_week=Decimal(25),
        agreed_cost_pence=1_200_000, start_date=date(2024, 1, 8), expected_end_date=date(2024, 7, 19),
        safeguarding="commissioning_team", provision="main", full_time=True)
    placement.start(date(2024, 1, 8), by=PROVIDER, now=NOW)
    placement.record_attendance(AttendanceReturn(date(2024, 1, 8), 10, 6, 3, 1), by=PROVIDER, now=NOW)
    placement.record_review(date(2024, 2, 16), attendance="improving", attitude="steady", attainment="steady",
                            behaviour="declining", notes="private notes",
    child_views="likes the small group", family_views="pleased with progress", by=OFFICER, now=NOW)
    placement.record_outcome("start", date(2024, 1, 12), by=PROVIDER, now=NOW, attainment={"english": "grade 3"},
                             qualifications=[{"name": "Entry 3 Maths", "level": "Entry 3", "grade": "Pass"}],
                             engagement=2)
    placement.end(date(2024, 3, 8), end_reason="completed", next_step="further_education", by=OFFICER, now=NOW)
    published = {}
    wire = [item for event in placement.events for item in messages.translate(event, placement)
            if isinstance(item, Message)]
    for message in wire:
        json.dumps(message.data)  # ready for the wire
        assert str(child) not in json.dumps(message.data)
        published.setdefault(message.type, message.data)
    return published


def test_every_promised_field_is_published():
    published = everything_published()
    promised = promised_fields()
    assert set(promised) == set(published) | set(messages.REMINDERS) == set(messages.DATA_SCHEMAS)
    for type_, fields in promised.items():
        # the daily job's reminders: their schema (tests/api/tracking/test_tracking_api_reminders.py publishes them)
        carried = set(published[type_]) if type_ in published else set(messages.DATA_SCHEMAS[type_]._declared_fields)
        assert fields <= carried, (type_, fields - carried)


def test_the_shapes_are_the_contracts():
    published = everything_published()
    attendance = published["attendance.recorded"]
    assert attendance["rate"] == 0.6 and attendance["correction"] is False
    assert attendance["week_commencing"] == "2024-01-08"
    assert {c["kind"] for c in [published["concern.raised"]]} <= {"unexplained_absence", "low_attendance"}
    UUID(published["concern.raised"]["concern_id"])
    assert published["review.recorded"]["progress"] == {
        "attendance": "improving", "attitude": "steady", "attainment": "steady", "behaviour": "declining"}
    assert "notes" not in published["review.recorded"]
    assert published["outcome.recorded"]["qualifications"] == [
        {"name": "Entry 3 Maths", "level": "Entry 3", "grade": "Pass"}]
    ended = published["placement.ended"]
    assert (ended["ended_on"], ended["end_reason"], ended["next_step"]) == (
        "2024-03-08", "completed", "further_education")
    assert published["placement.started"]["at"] == "2024-03-15T12:00:00+00:00"
