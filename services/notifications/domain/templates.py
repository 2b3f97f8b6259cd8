"""The messages the DPS sends, one template per message, in plain English.

No template has a place for a child's name, date of birth, address or pupil
number: what a provider reads about a child is in the pseudonymised profile
behind the link, where access is checked and logged.  Each template says who
it is for and whether a person may turn it off: never one the law or
safeguarding needs (a decision, a concern, a deadline that is the council's
duty).

Rendering is strict: a value the template names and the facts lack fails the
delivery with the reason (nothing half-filled is ever sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from string import Formatter


class Audience(StrEnum):
    PROVIDER = "provider"
    OFFICER = "officer"
    MANAGER = "manager"


class MissingValue(Exception):
    """A template names a value the facts do not have."""

    def __init__(self, template: str, name: str) -> None:
        super().__init__(f"template {template!r} needs {name!r}, which the event did not give")
        self.template, self.name = template, name


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@dataclass(frozen=True)
class Template:
    name: str
    audience: Audience
    subject: str
    body: str
    optional: bool = False  # may the person turn it off?
    why_required: str = ""  # when not optional: what needs it

    def fields(self) -> set[str]:
        return {name for text in (self.subject, self.body)
                for _, name, _, _ in Formatter().parse(text) if name}

    def render(self, values: dict[str, object]) -> Rendered:
        for name in sorted(self.fields()):
            if values.get(name) in (None, ""):
                raise MissingValue(self.name, name)
        return Rendered(self.subject.format(**values), self.body.format(**values))


_SIGN_OFF = "\n\nThis is an automatic message from {council_name}'s Dynamic Purchasing System for Alternative " \
            "Provision. Do not reply to it."

_TEMPLATES = (
    # -- providers ---------------------------------------------------------------------------
    Template("referral.new", Audience.PROVIDER,
             "New referral on lot {lot}: offers by {deadline}",
             "{provider_name},\n\nA new referral has been sent to every provider on lot {lot} ({lot_name}).\n\n"
             "What is asked: {asked}.\n\nMake an offer or decline by {deadline}.\n\n"
             "Read the referral and respond: {link}" + _SIGN_OFF,
             why_required="PCR 2015 reg. 34(12): every admitted provider is invited to every call-off on its lot"),
    Template("referral.reminder", Audience.PROVIDER,
             "Reminder: the referral on lot {lot} closes at {deadline}",
             "{provider_name},\n\nYou have not yet made an offer on, or declined, a referral on lot {lot} "
             "({lot_name}). It closes at {deadline}.\n\nRespond: {link}" + _SIGN_OFF,
             optional=True),
    Template("offer.awarded", Audience.PROVIDER,
             "Your offer was successful (lot {lot})",
             "{provider_name},\n\nYour offer on a referral on lot {lot} has been awarded the placement, to start on "
             "{start_date}.{standstill}\n\nSee the award and confirm the start: {link}" + _SIGN_OFF,
             why_required="the award decision (PCR 2015 reg. 84; PA 2023 s.50)"),
    Template("offer.unsuccessful", Audience.PROVIDER,
             "Your offer was not successful",
             "{provider_name},\n\nYour offer was not successful.\n\nYour rank: {rank}.\nThe reason: {reason}."
             "{standstill}\n\nSee the outcome: {link}" + _SIGN_OFF,
             why_required="bidders are told the outcome and reasons (PCR 2015 reg. 55)"),
    Template("membership.suspended", Audience.PROVIDER,
             "Your place on lot {lot} is suspended",
             "{provider_name},\n\nYour membership of lot {lot} ({lot_name}) was suspended on {date}.\n\n"
             "The reason: {reason}.\n\nYou will not be sent new referrals on this lot while it is suspended. "
             "Your current placements continue.\n\nSee your record: {link}" + _SIGN_OFF,
             why_required="a decision about the provider, with its reasons"),
    Template("membership.reinstated", Audience.PROVIDER,
             "Your place on lot {lot} is reinstated",
             "{provider_name},\n\nYour membership of lot {lot} ({lot_name}) was reinstated on {date}. You will be "
             "sent new referrals on this lot again.\n\nSee your record: {link}" + _SIGN_OFF,
             why_required="a decision about the provider"),
    Template("membership.removed", Audience.PROVIDER,
             "You have been removed from lot {lot}",
             "{provider_name},\n\nYour membership of lot {lot} ({lot_name}) ended on {date}.\n\n"
             "The reason: {reason}.\n\nSee your record: {link}" + _SIGN_OFF,
             why_required="a decision about the provider, with its reasons"),
    # -- providers: applications, mini-competitions, compliance documents, declarations (#18) --
    Template("application.received", Audience.PROVIDER,
             "Your application to join the DPS was received",
             "{provider_name},\n\nThe council received your application to join its Dynamic Purchasing System "
             "for Alternative Provision, for {lots}, on {date}. It will decide by {due_on}.\n\n"
             "See your application: {link}" + _SIGN_OFF,
             optional=True),
    Template("application.admitted", Audience.PROVIDER,
             "Your application is decided: admitted to {admitted}",
             "{provider_name},\n\nThe council has decided your application to join its Dynamic Purchasing System "
             "for Alternative Provision: you are admitted to {admitted}. You will be sent new referrals on "
             "{admitted_short} from today.{left_out}\n\nSee the decision: {link}" + _SIGN_OFF,
             why_required="the decision on admission to a DPS (PCR 2015 reg. 55(1))"),
    Template("application.rejected", Audience.PROVIDER,
             "Your application to join the DPS was not successful",
             "{provider_name},\n\nThe council has decided your application to join its Dynamic Purchasing System "
             "for Alternative Provision, for {lots}: it was not successful, for these reasons:\n\n{reasons}\n\n"
             "You may apply again. See the decision: {link}" + _SIGN_OFF,
             why_required="the decision on admission to a DPS, with the reasons for a rejection (PCR 2015 reg. 55)"),
    Template("mini_competition.invited", Audience.PROVIDER,
             "New mini-competition on lot {lot}: bids by {deadline}",
             "{provider_name},\n\nA mini-competition for a block contract has been opened to every provider on lot "
             "{lot} ({lot_name}): {places}, from {contract_start} to {contract_end}.\n\nBid by {deadline}.\n\n"
             "Read the terms and bid: {link}" + _SIGN_OFF,
             why_required="PCR 2015 reg. 34(12): every admitted provider is invited to every call-off on its lot"),
    Template("block_contract.awarded", Audience.PROVIDER,
             "Your bid was successful (lot {lot})",
             "{provider_name},\n\nYour bid in the mini-competition on lot {lot} ({lot_name}) has been awarded the "
             "block contract: {places}, from {contract_start} to {contract_end}.{standstill}\n\n"
             "See the award: {link}" + _SIGN_OFF,
             why_required="the award decision (PCR 2015 reg. 55 and 86; PA 2023 s.50)"),
    Template("compliance_document.expiring", Audience.PROVIDER,
             "Your {document} expires on {expires_on}",
             "{provider_name},\n\nYour {document} on record with the DPS expires on {expires_on}, in {days_left}. "
             "Upload the new one before then: once it has expired, your memberships of the DPS's lots are "
             "suspended until a valid one is uploaded.\n\nUpload it: {link}" + _SIGN_OFF,
             optional=True),
    Template("compliance_document.expired", Audience.PROVIDER,
             "Your {document} has expired",
             "{provider_name},\n\nYour {document} on record with the DPS expired on {expires_on}. Your memberships "
             "of the DPS's lots are suspended until a valid one is uploaded: you will not be sent new referrals "
             "meanwhile.\n\nUpload it: {link}" + _SIGN_OFF,
             why_required="safeguarding: insurance, enhanced DBS checks and a safeguarding policy are kept in date "
                          "(the council's compliance check suspends the memberships)"),
    Template("declaration.requested", Audience.PROVIDER,
             "A renewed self-declaration is asked for, by {due_on}",
             "{provider_name},\n\nThe council asks you to renew your self-declaration: that no ground for "
             "exclusion applies to your organisation and that you still meet the selection criteria "
             "({regulation}). Give it by {due_on}. If it is not given by then, your memberships are suspended "
             "(the council's policy) until the DPS manager reinstates them.\n\nGive your declaration: {link}"
             + _SIGN_OFF,
             why_required="PCR 2015 reg. 34(25): the answer is due within 5 working days"),
    # -- officers ----------------------------------------------------------------------------
    Template("concern.raised", Audience.OFFICER,
             "A concern was raised on a placement ({team_name})",
             "A concern was raised on placement {placement_ref} with {provider_name}: {concern}.\n\n"
             "Acknowledge it and record what is being done: {link}" + _SIGN_OFF,
             why_required="safeguarding: a concern is seen at once (Keeping children safe in education)"),
    Template("referral.no_offers", Audience.OFFICER,
             "No offers at the deadline ({team_name})",
             "The referral {referral_ref} on lot {lot} closed with no eligible offer.\n\n"
             "Decide what happens next for the child: {link}" + _SIGN_OFF,
             why_required="the council's duty to arrange education (Education Act 1996 s.19)"),
    # -- officers and the manager: deadlines the council must meet (issue #18) ------------------
    Template("referral.ready_to_assess", Audience.OFFICER,
             "Offers closed and ready to assess (referral {referral_ref}, {team_name})",
             "The offer window of referral {referral_ref} on lot {lot} closed at {deadline} "
             "with {offers}.\n\nAssess the offers and complete the assessment: {link}" + _SIGN_OFF,
             why_required="the council's duty to arrange education (Education Act 1996 s.19)"),
    Template("referral.no_offers_at_deadline", Audience.OFFICER,
             "No offers at the deadline (referral {referral_ref}, {team_name})",
             "The offer window of referral {referral_ref} on lot {lot} closed at {deadline} "
             "with no offer from the {invited} provider(s) invited.\n\nDecide what happens next for the child "
             "(re-publish, or record an off-DPS exception): {link}" + _SIGN_OFF,
             why_required="the council's duty to arrange education (Education Act 1996 s.19)"),
    Template("review.due_soon", Audience.OFFICER,
             "A placement review is due on {due_on} ({team_name})",
             "The review of placement {placement_ref} with {provider_name} is due on {due_on}, in 5 school days."
             "\n\nArrange it: {link}" + _SIGN_OFF, optional=True),
    Template("review.overdue", Audience.OFFICER,
             "A placement review is overdue ({team_name})",
             "The review of placement {placement_ref} with {provider_name} was due on {due_on} and has not been "
             "recorded.\n\nRecord it: {link}" + _SIGN_OFF,
             why_required="DfE guidance: a placement is reviewed at least every half term (six school weeks); "
                          "overdue reviews are flagged"),
    Template("sixth_day.at_risk", Audience.OFFICER,
             "Full-time education is due by {due_on} ({team_name})",
             "A child referred on referral {referral_ref} must have full-time education from {due_on}, in 2 school "
             "days, and no placement yet provides it.\n\nSee the referral: {link}" + _SIGN_OFF,
             why_required="full-time education by the sixth school day (Education Act 1996 s.19; DfE, Arranging "
                          "alternative provision, February 2025)"),
    Template("sixth_day.missed", Audience.OFFICER,
             "The sixth-day deadline was missed ({team_name})",
             "A child referred on referral {referral_ref} was due full-time education from {due_on}, and no "
             "placement provided it by then.\n\nRecord what is being done: {link}" + _SIGN_OFF,
             why_required="full-time education by the sixth school day (Education Act 1996 s.19; DfE, Arranging "
                          "alternative provision, February 2025)"),
    Template("application.decision_due", Audience.MANAGER,
             "An application is due for decision by {due_on}",
             "The application from {applicant} (received {received_on}) is due for decision by {due_on}, in 2 "
             "working days.\n\nDecide it: {link}" + _SIGN_OFF,
             why_required="PCR 2015 reg. 34(15): a request to participate is assessed within 10 working days "
                          "(law)"),
    Template("application.decision_overdue", Audience.MANAGER,
             "An application is overdue for decision",
             "The application from {applicant} (received {received_on}) was due for decision by {due_on} and is "
             "not decided.\n\nDecide it, or record why the period is extended: {link}" + _SIGN_OFF,
             why_required="PCR 2015 reg. 34(15)-(16): a request to participate is assessed within 10 working "
                          "days, extended only with reasons (law)"),
    Template("off_dps_exception.awaiting_approval", Audience.MANAGER,
             "An off-DPS exception awaits your approval ({team_name})",
             "An officer recorded an off-DPS exception on referral {referral_ref} (lot {lot}): {reason}.\n\n"
             "Approve or refuse it: {link}" + _SIGN_OFF,
             why_required="a placement outside the DPS needs the manager's approval (the council's policy)"),
    Template("operations.dead_letters", Audience.MANAGER,
             "Events could not be handled: {service} has {depth} dead letter(s)",
             "{added} more event(s) could not be handled by {service} and wait in its dead-letter queue "
             "({queue}), {depth} in all.\n\nSee docs/operations.md, *Dead letters*, to read, fix and replay them."
             + _SIGN_OFF,
             why_required="an event not handled is a fact one service never learned (operations)"),
)

TEMPLATES: dict[str, Template] = {template.name: template for template in _TEMPLATES}


def template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise KeyError(f"no template {name!r}") from None
