"""The event catalogue: every event type on the wire, who publishes it, its
current version, and what it means.

Routing: each producer publishes on its own durable topic exchange
`dps.<producer>` with the event type as routing key.  A consumer binds its
queue to the types it reads.  The shape of each event's `data` is owned by the
producing service (`services/<producer>/messages.py`); each consumer keeps its
own schema of the fields it reads and ignores the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

SERVICES = ("provider_registry", "referrals", "awards", "tracking", "notifications")

# The lots of the DPS, by the number every event and API uses for them (the
# registry owns their names and questions; the numbers are the contract).
LOTS: dict[int, str] = {
    1: "Full-time education",
    2: "Part-time education",
    3: "Bespoke provision",
    4: "Post-16 support and preparation for adulthood",
}

# The DPS record that every earlier version had (one DPS, no id on the wire):
# events that carry no `dps_id` mean this one.  A successor arrangement gets its own id.
FIRST_DPS_ID = UUID("8d7f4c1e-2b6a-4e0f-9c3d-5a1b2c3d4e01")


def is_lot(value: object) -> bool:
    """A lot number: a whole number 1 to 4 (not True, not 1.0, not "1")."""
    return type(value) is int and value in LOTS


@dataclass(frozen=True)
class EventType:
    name: str
    producer: str
    version: int
    meaning: str

    @property
    def exchange(self) -> str:
        return exchange_for(self.producer)


def exchange_for(service: str) -> str:
    return f"dps.{service}"


_EVENTS = [
    # provider registry
    EventType("dps.configured", "provider_registry", 1,
              "A DPS record was set up or changed: its regime, term, statutory end, lots, "
              "published call-off award criteria and any agreed minimum offer window."),
    EventType("dps.statutory_end_approaching", "provider_registry", 1,
              "A DPS under the 2015 rules is 12, 6 or 3 months from its statutory end."),
    EventType("provider.sla_accepted", "provider_registry", 1,
              "A provider accepted a version of a DPS's terms (SLA), and any agreed minimum window in it."),
    EventType("membership.admitted", "provider_registry", 1,
              "A provider was admitted to a lot: provider, lot, registration status, pricing lines, capacity."),
    EventType("membership.suspended", "provider_registry", 1,
              "A provider's membership of a lot was suspended, with reason."),
    EventType("membership.reinstated", "provider_registry", 1,
              "A suspended membership was reinstated."),
    EventType("membership.removed", "provider_registry", 1,
              "A provider was removed from a lot, with reason."),
    EventType("pricing_schedule.effective", "provider_registry", 1,
              "A provider's pricing schedule for a lot took effect (all lines with maximum prices)."),
    EventType("capacity.changed", "provider_registry", 1,
              "A provider's declared capacity (places) on a lot changed."),
    EventType("provider.contacts_changed", "provider_registry", 1,
              "A provider changed the email addresses the DPS sends its notifications to."),
    EventType("provider.registration_changed", "provider_registry", 1,
              "A provider's name or registration details (registered school / unregistered) changed."),
    EventType("application.submitted", "provider_registry", 1,
              "An application to join the DPS was received: the lots applied for, the decision's last day and "
              "the applicant's contact address (it is not yet a provider anyone knows)."),
    EventType("application.decided", "provider_registry", 1,
              "An application was decided: admitted to some or all of the lots applied for, or rejected, with "
              "the reasons for each lot left out and the applicant's contact address."),
    EventType("compliance_document.expiring", "provider_registry", 1,
              "A provider's compliance document expires in 30, 14 or 7 days (once per threshold per document)."),
    EventType("compliance_document.expired", "provider_registry", 1,
              "A provider's compliance document has expired (once per document; the suspension follows)."),
    EventType("provider.declaration_requested", "provider_registry", 1,
              "The council asked a provider for a renewed self-declaration, due in 5 working days "
              "(PCR 2015 reg. 34(25))."),
    EventType("application.decision_due", "provider_registry", 1,
              "An application is due for decision in 2 working days (once per application): the manager is told."),
    EventType("application.decision_overdue", "provider_registry", 1,
              "An application passed its decision date undecided (once per application): the manager is told."),
    # referrals
    EventType("referral.published", "referrals", 1,
              "A referral's pseudonymised profile was sent to the invited providers of a lot."),
    EventType("offer.submitted", "referrals", 1, "A provider made an offer on a referral."),
    EventType("offer.changed", "referrals", 1, "A provider changed its offer before the deadline."),
    EventType("offer.withdrawn", "referrals", 1, "A provider withdrew its offer before the deadline."),
    EventType("offer.declined", "referrals", 1, "A provider declined a referral, with reason."),
    EventType("referral.closed", "referrals", 1,
              "The offer window closed and the officer completed the assessment: "
              "the referral with its offers and their assessments (what awards ranks)."),
    EventType("referral.cancelled", "referrals", 1, "An officer cancelled a referral."),
    EventType("referral.window_extended", "referrals", 1,
              "An officer extended a referral's offer window before it closed; every invited provider is told."),
    EventType("off_dps_exception.recorded", "referrals", 1,
              "No DPS provider could meet the needs; an officer recorded an off-DPS exception, naming the "
              "provider, the placement's terms and the minimum checks, for the manager's approval in awards."),
    EventType("child.corrected", "referrals", 1,
              "A child's details were corrected: the profile facts other services copy (ehcp, looked_after), "
              "by child_ref; never the child's identity."),
    EventType("child.erased", "referrals", 1,
              "The manager granted the erasure of a child's data: every service deletes what it holds "
              "of this child_ref."),
    # awards
    EventType("placement.awarded", "awards", 1,
              "A call-off: a referral's placement was awarded to a provider's offer."),
    EventType("offer.unsuccessful", "awards", 1, "An offer or bid was not successful."),
    EventType("mini_competition.published", "awards", 1,
              "A mini-competition for a block contract was published: its lot, places, contract period, "
              "deadline for bids, and every provider invited."),
    EventType("calloff.no_eligible_offers", "awards", 1,
              "A closed referral's offers were ranked and none is eligible: the officer may move the child on."),
    EventType("block_contract.awarded", "awards", 1, "A mini-competition was awarded; standstill begins."),
    EventType("block_contract.confirmed", "awards", 1, "A block contract was confirmed after standstill."),
    EventType("block_place.allocated", "awards", 1, "A referred child was given a place of a block contract."),
    EventType("off_dps_placement.approved", "awards", 1,
              "The manager approved an off-DPS exception (the registration rule holds): a placement to track."),
    # tracking
    EventType("placement.started", "tracking", 1, "A placement started."),
    EventType("placement.ended", "tracking", 1, "A placement ended, with its next step."),
    EventType("attendance.recorded", "tracking", 1, "A provider returned a week's attendance."),
    EventType("concern.raised", "tracking", 1, "Unexplained absence or low attendance raised a concern."),
    EventType("review.recorded", "tracking", 1, "A placement review was recorded."),
    EventType("outcome.recorded", "tracking", 1, "Outcomes (attainment, qualifications, engagement) recorded."),
    EventType("review.due_soon", "tracking", 1,
              "A placement's review is due in 5 school days (once per placement and due date)."),
    EventType("review.overdue", "tracking", 1,
              "A placement's review date passed with no review recorded (once per placement and due date)."),
    EventType("sixth_day.at_risk", "tracking", 1,
              "A child's sixth-day deadline is 2 school days away without full-time provision (once per child)."),
    EventType("sixth_day.missed", "tracking", 1,
              "A child's sixth-day deadline passed without full-time provision (once per child)."),
]

CATALOGUE: dict[str, EventType] = {e.name: e for e in _EVENTS}


def event_type(name: str) -> EventType:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"{name!r} is not in the event catalogue") from None
