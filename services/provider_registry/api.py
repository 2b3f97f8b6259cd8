"""HTTP entry points of the provider registry service.

Each endpoint names who may call it (the role decorator, innermost), loads its
input with a schema, calls one handler and shows the result through a view
(views.py decides what each reader sees).
"""

from __future__ import annotations

from uuid import UUID

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint

from services.provider_registry import handlers, views
from services.provider_registry import schemas as s
from services.provider_registry.unit_of_work import RegistryUnitOfWork
from shared import audit
from shared.auth import current_principal, public, requires
from shared.calendar import council_date
from shared.catalogue import FIRST_DPS_ID
from shared.paging import LINK_DOC, Page, Paging

COUNCIL = ("officer", "manager")

dps_blp = Blueprint("dps", __name__, url_prefix="/v1",
                    description="The DPS records (the first, /v1/dps, and any successor arrangement beside it), "
                                "their regime, statutory end, award criteria, lots and qualification questions")
applications_blp = Blueprint("applications", __name__, url_prefix="/v1/applications",
                             description="Requests to participate and the manager's decision on them")
providers_blp = Blueprint("providers", __name__, url_prefix="/v1/providers",
                          description="Admitted providers: memberships, compliance, SLA, pricing, capacity")
schedules_blp = Blueprint("pricing_schedules", __name__, url_prefix="/v1/pricing-schedules",
                          description="Pricing schedule versions across providers (approvals)")
directory_blp = Blueprint("directory", __name__, url_prefix="/v1/directory",
                          description="The public directory of admitted providers by lot")


def blueprints() -> list[Blueprint]:
    return [dps_blp, applications_blp, providers_blp, schedules_blp, directory_blp, audit.blueprint()]


def _uow(*, read_only: bool = False) -> RegistryUnitOfWork:
    """A unit of work acting as the person behind the request (public reads: the service itself)."""
    runtime = current_app.extensions["dps"]
    return runtime.unit_of_work(g.get("principal"), read_only=read_only)


def _today(uow: RegistryUnitOfWork):
    return council_date(uow.now())


# ------------------------------------------------------------ the DPS, lots


def _dps_view(uow: RegistryUnitOfWork, dps_id=FIRST_DPS_ID) -> dict:
    return views.dps_view(handlers.dps_record(uow, dps_id), _today(uow))


def _dps_change(use_case: str, dps_id, *args, **kwargs) -> dict:
    """The manager's change of a DPS record, shown as the record now is."""
    with _uow() as uow:
        dps = getattr(handlers, use_case)(uow, current_principal(), *args, dps_id=dps_id, **kwargs)
        return views.dps_view(dps, _today(uow))


@dps_blp.route("/dps-records")
class DPSRecords(MethodView):
    @dps_blp.arguments(Paging, location="query")
    @dps_blp.response(200, s.DPSOut(many=True), headers=LINK_DOC)
    @public
    def get(self, query):
        """Every DPS record: the first and any successor arrangement beside it"""
        page = Page.take(query)
        with _uow(read_only=True) as uow:
            return page.respond(page.window(handlers.dps_records(uow)), lambda d: views.dps_view(d, _today(uow)))

    @dps_blp.arguments(s.DPSSetUpSchema)
    @dps_blp.response(201, s.DPSOut)
    @requires("manager")
    def post(self, body):
        """Set up a DPS record beside the first (a successor arrangement: its own regime, lots and terms)"""
        statutory_end = current_app.extensions["dps"].settings.pcr2015_statutory_end
        with _uow() as uow:
            dps = handlers.set_up_dps(uow, current_principal(), **body, statutory_end=statutory_end)
            return views.dps_view(dps, _today(uow))


# The first DPS keeps its own paths (/v1/dps...): the same views, for FIRST_DPS_ID.
@dps_blp.route("/dps", endpoint="DPSRecord", defaults={"dps_id": FIRST_DPS_ID})
@dps_blp.route("/dps-records/<uuid:dps_id>")
class DPSRecordById(MethodView):
    @dps_blp.response(200, s.DPSOut)
    @public
    def get(self, dps_id: UUID):
        """One DPS record (/v1/dps: the first): its regime, term, statutory end, SLA, award criteria and lots"""
        with _uow(read_only=True) as uow:
            return _dps_view(uow, dps_id)

    @dps_blp.arguments(s.DPSChangeSchema)
    @dps_blp.response(200, s.DPSOut)
    @requires("manager")
    def patch(self, change, dps_id: UUID):
        """Change a DPS record's name, start or term (the term only before anyone is admitted)"""
        return _dps_change("configure_dps", dps_id, **change)


@dps_blp.route("/dps/closure", endpoint="DPSClosure", defaults={"dps_id": FIRST_DPS_ID})
@dps_blp.route("/dps-records/<uuid:dps_id>/closure")
class DPSRecordClosure(MethodView):
    @dps_blp.arguments(s.ReasonOnlySchema)
    @dps_blp.response(200, s.DPSOut)
    @requires("manager")
    def post(self, body, dps_id: UUID):
        """Close a DPS record to applications"""
        return _dps_change("close_dps", dps_id, body["reason"])


@dps_blp.route("/dps/sla-versions", endpoint="SlaVersions", defaults={"dps_id": FIRST_DPS_ID})
@dps_blp.route("/dps-records/<uuid:dps_id>/sla-versions")
class DPSRecordSla(MethodView):
    @dps_blp.arguments(s.SlaIssueSchema)
    @dps_blp.response(201, s.DPSOut)
    @requires("manager")
    def post(self, body, dps_id: UUID):
        """Issue a new SLA version of a DPS record; an agreed minimum offer window comes only with one"""
        return _dps_change("issue_sla", dps_id, **body)


@dps_blp.route("/dps-records/<uuid:dps_id>/award-criteria")
class DPSAwardCriteria(MethodView):
    @dps_blp.arguments(s.AwardCriteriaSchema)
    @dps_blp.response(200, s.DPSOut)
    @requires("manager")
    def put(self, body, dps_id: UUID):
        """Publish a DPS record's call-off award criteria"""
        return _dps_change("set_award_criteria", dps_id, body["award_criteria"])


@dps_blp.route("/dps-records/<uuid:dps_id>/rounds")
class DPSRounds(MethodView):
    @dps_blp.arguments(s.RoundSchema)
    @dps_blp.response(201, s.DPSOut)
    @requires("manager")
    def post(self, body, dps_id: UUID):
        """Reopen an open framework to applications from one date to another (an admission round)"""
        with _uow() as uow:
            dps, _ = handlers.open_round(uow, current_principal(), body["opens_on"], body["closes_on"], dps_id)
            return views.dps_view(dps, _today(uow))


@dps_blp.route("/lots/<int:lot>/questions", endpoint="LotQuestions", defaults={"dps_id": FIRST_DPS_ID})
@dps_blp.route("/dps-records/<uuid:dps_id>/lots/<int:lot>/questions")
class DPSLotQuestions(MethodView):
    @dps_blp.arguments(s.QuestionsSchema)
    @dps_blp.response(200, s.LotOut)
    @requires("manager")
    def put(self, body, dps_id: UUID, lot: int):
        """Set a lot's qualification questions on a DPS record"""
        with _uow() as uow:
            dps = handlers.set_questions(uow, current_principal(), lot, body["questions"], dps_id)
            return views.lot_view(dps, lot)


@dps_blp.route("/lots")
class Lots(MethodView):
    @dps_blp.arguments(Paging, location="query")
    @dps_blp.response(200, s.LotOut(many=True), headers=LINK_DOC)
    @public
    def get(self, query):
        """The four lots and their qualification questions"""
        page = Page.take(query)
        with _uow(read_only=True) as uow:
            dps = handlers.dps_record(uow)
            return page.respond(page.window(sorted(dps.lots)), lambda n: views.lot_view(dps, n))


# ------------------------------------------------------------ applications


@applications_blp.route("")
class Applications(MethodView):
    @applications_blp.arguments(s.ApplicationQuery, location="query")
    @applications_blp.response(200, s.ApplicationOut(many=True), headers=LINK_DOC)
    @requires("provider", *COUNCIL)
    def get(self, query):
        """Applications: all for the council (pending, overdue...), a provider's own for a provider"""
        page = Page.take(query)
        with _uow(read_only=True) as uow:
            found = handlers.applications(uow, current_principal(), **query, limit=page.fetch, offset=page.offset)
            return page.respond(found, lambda a: views.application_view(a, _today(uow)))

    @applications_blp.arguments(s.ApplicationSchema)
    @applications_blp.response(201, s.ApplicationOut)
    @requires("provider")
    def post(self, form):
        """Apply to join the DPS (a request to participate) for one or more lots"""
        with _uow() as uow:
            application = handlers.submit_application(uow, current_principal(), form)
            return views.application_view(application, _today(uow))


@applications_blp.route("/<uuid:application_id>")
class ApplicationRecord(MethodView):
    @applications_blp.response(200, s.ApplicationOut)
    @requires("provider", *COUNCIL)
    def get(self, application_id: UUID):
        """One application with its automatic assessment and decision"""
        with _uow(read_only=True) as uow:
            application = handlers.application_for(uow, current_principal(), application_id)
            return views.application_view(application, _today(uow))


@applications_blp.route("/<uuid:application_id>/marks")
class ApplicationMarks(MethodView):
    @applications_blp.arguments(s.MarkSchema)
    @applications_blp.response(200, s.ApplicationOut)
    @requires("manager")
    def post(self, body, application_id: UUID):
        """Mark a scored answer (the council's score replaces the one given)"""
        with _uow() as uow:
            application = handlers.mark_answer(uow, current_principal(), application_id, **body)
            return views.application_view(application, _today(uow))


@applications_blp.route("/<uuid:application_id>/extension")
class ApplicationExtension(MethodView):
    @applications_blp.arguments(s.ReasonOnlySchema)
    @applications_blp.response(200, s.ApplicationOut)
    @requires("manager")
    def post(self, body, application_id: UUID):
        """Extend the decision deadline once, to 15 working days, with a reason"""
        with _uow() as uow:
            application = handlers.extend_deadline(uow, current_principal(), application_id, body["reason"])
            return views.application_view(application, _today(uow))


@applications_blp.route("/<uuid:application_id>/decision")
class ApplicationDecision(MethodView):
    @applications_blp.arguments(s.DecisionSchema)
    @applications_blp.response(200, s.ApplicationOut)
    @requires("manager")
    def post(self, body, application_id: UUID):
        """Admit to some or all lots applied for, or reject with reasons per question"""
        with _uow() as uow:
            application = handlers.decide(uow, current_principal(), application_id,
                                          admit=body["outcome"] == "admit", lots=body["lots"],
                                          reasons=body["reasons"])
            return views.application_view(application, _today(uow))


# ------------------------------------------------------------------ providers


def _provider_view(uow: RegistryUnitOfWork, provider, current_sla: str | None = None) -> dict:
    return views.provider_view(provider, _today(uow), current_sla or handlers.current_sla(uow))


@providers_blp.route("")
class Providers(MethodView):
    @providers_blp.arguments(s.ProviderQuery, location="query")
    @providers_blp.response(200, s.ProviderOut(many=True), headers=LINK_DOC)
    @requires("provider", *COUNCIL)
    def get(self, query):
        """Providers on the DPS (a provider user sees only its own)"""
        page = Page.take(query)
        with _uow(read_only=True) as uow:
            found = handlers.providers(uow, current_principal(), **query, limit=page.fetch, offset=page.offset)
            current_sla = handlers.current_sla(uow)
            return page.respond(found, lambda p: _provider_view(uow, p, current_sla))


@providers_blp.route("/<uuid:provider_id>")
class ProviderRecord(MethodView):
    @providers_blp.response(200, s.ProviderOut)
    @requires("provider", *COUNCIL)
    def get(self, provider_id: UUID):
        """A provider's whole record"""
        with _uow(read_only=True) as uow:
            return _provider_view(uow, handlers.provider_for(uow, current_principal(), provider_id))

    @providers_blp.arguments(s.DetailsChangeSchema)
    @providers_blp.response(200, s.ProviderOut)
    @requires("provider", "manager")
    def patch(self, change, provider_id: UUID):
        """Change the organisation's details, registration or safeguarding lead"""
        with _uow() as uow:
            provider = handlers.change_details(uow, current_principal(), provider_id, **change)
            return _provider_view(uow, provider)


@providers_blp.route("/<uuid:provider_id>/declared-roll")
class ProviderDeclaredRoll(MethodView):
    @providers_blp.arguments(s.DeclaredRollSchema)
    @providers_blp.response(200, s.ProviderOut)
    @requires("provider", "manager")
    def put(self, roll, provider_id: UUID):
        """An unregistered setting declares its whole roll, from every commissioner, for the registration rule
        (Education Act 1996 s.463): full-time pupils of compulsory school age, and whether any has an EHCP, is
        looked after or has SEN.  Keep it current: awards counts it with the council's placements made since."""
        with _uow() as uow:
            provider = handlers.declare_roll(uow, current_principal(), provider_id, **roll)
            return _provider_view(uow, provider)


@providers_blp.route("/<uuid:provider_id>/documents")
class ProviderDocuments(MethodView):
    @providers_blp.arguments(s.DocumentSchema)
    @providers_blp.response(201, s.ProviderOut)
    @requires("provider", "manager")
    def post(self, document, provider_id: UUID):
        """Upload a compliance document (valid evidence lifts automatic suspensions)"""
        with _uow() as uow:
            provider = handlers.upload_document(uow, current_principal(), provider_id, document)
            return _provider_view(uow, provider)


@providers_blp.route("/<uuid:provider_id>/sla-acceptances")
class ProviderSla(MethodView):
    @providers_blp.arguments(s.SlaAcceptanceSchema)
    @providers_blp.response(201, s.ProviderOut)
    @requires("provider")
    def post(self, body, provider_id: UUID):
        """Accept the current version of the service level agreement"""
        with _uow() as uow:
            provider = handlers.accept_sla(uow, current_principal(), provider_id, body["version"].strip(),
                                           body["dps_id"])
            return _provider_view(uow, provider)


@providers_blp.route("/declaration-requests")
class DeclarationRequests(MethodView):
    @providers_blp.response(201, s.DeclarationRequestOut(many=True))
    @requires("manager")
    def post(self):
        """Ask every member not already asked for a renewed self-declaration (5 working days to answer)"""
        with _uow() as uow:
            return [views.declaration_request_view(p) for p in handlers.request_declarations(uow, current_principal())]


@providers_blp.route("/<uuid:provider_id>/declaration-requests")
class ProviderDeclarationRequest(MethodView):
    @providers_blp.response(201, s.DeclarationRequestOut)
    @requires("manager")
    def post(self, provider_id: UUID):
        """Ask one provider for a renewed self-declaration (5 working days to answer)"""
        with _uow() as uow:
            provider, = handlers.request_declarations(uow, current_principal(), provider_id)
            return views.declaration_request_view(provider)


@providers_blp.route("/<uuid:provider_id>/declarations")
class ProviderDeclaration(MethodView):
    @providers_blp.arguments(s.DeclarationAnswerSchema)
    @providers_blp.response(201, s.ProviderOut)
    @requires("provider")
    def post(self, answer, provider_id: UUID):
        """Give the renewed self-declaration asked for (late, it does not lift a suspension)"""
        with _uow() as uow:
            return _provider_view(uow, handlers.answer_declaration(uow, current_principal(), provider_id, **answer))


def _membership_action(action: str, body: dict, query: dict, provider_id: UUID, lot: int) -> dict:
    with _uow() as uow:
        provider = getattr(handlers, action)(uow, current_principal(), provider_id, lot, body["reason"],
                                             query["dps_id"])
        return _provider_view(uow, provider)


@providers_blp.route("/<uuid:provider_id>/lots/<int:lot>/suspension")
class MembershipSuspension(MethodView):
    @providers_blp.arguments(s.ReasonOnlySchema)
    @providers_blp.arguments(s.DpsQuery, location="query")
    @providers_blp.response(200, s.ProviderOut)
    @requires("manager")
    def post(self, body, query, provider_id: UUID, lot: int):
        """Suspend a membership, with a reason (no new referrals or awards)"""
        return _membership_action("suspend", body, query, provider_id, lot)


@providers_blp.route("/<uuid:provider_id>/lots/<int:lot>/reinstatement")
class MembershipReinstatement(MethodView):
    @providers_blp.arguments(s.ReasonOnlySchema)
    @providers_blp.arguments(s.DpsQuery, location="query")
    @providers_blp.response(200, s.ProviderOut)
    @requires("manager")
    def post(self, body, query, provider_id: UUID, lot: int):
        """Reinstate a suspended membership, with a reason"""
        return _membership_action("reinstate", body, query, provider_id, lot)


@providers_blp.route("/<uuid:provider_id>/lots/<int:lot>/removal")
class MembershipRemoval(MethodView):
    @providers_blp.arguments(s.ReasonOnlySchema)
    @providers_blp.arguments(s.DpsQuery, location="query")
    @providers_blp.response(200, s.ProviderOut)
    @requires("manager")
    def post(self, body, query, provider_id: UUID, lot: int):
        """Remove a provider from a lot, with a reason"""
        return _membership_action("remove", body, query, provider_id, lot)


@providers_blp.route("/<uuid:provider_id>/lots/<int:lot>/capacity")
class ProviderCapacity(MethodView):
    @providers_blp.arguments(s.CapacitySchema)
    @providers_blp.arguments(s.DpsQuery, location="query")
    @providers_blp.response(200, s.ProviderOut)
    @requires("provider", "manager")
    def put(self, body, query, provider_id: UUID, lot: int):
        """Change the places offered on a lot (at once)"""
        with _uow() as uow:
            provider = handlers.change_capacity(uow, current_principal(), provider_id, lot, body["capacity"],
                                                query["dps_id"])
            return _provider_view(uow, provider)


@providers_blp.route("/<uuid:provider_id>/notification-addresses")
class ProviderNotificationAddresses(MethodView):
    @providers_blp.arguments(s.NotificationAddressesIn)
    @providers_blp.response(200, s.ProviderOut)
    @requires("provider", "manager")
    def put(self, body, provider_id: UUID):
        """Change where the DPS sends the provider's notifications (one to five addresses)"""
        with _uow() as uow:
            provider = handlers.change_notification_addresses(uow, current_principal(), provider_id,
                                                              body["notification_addresses"])
            return _provider_view(uow, provider)


@providers_blp.route("/<uuid:provider_id>/lots/<int:lot>/pricing-schedules")
class ProviderSchedules(MethodView):
    @providers_blp.arguments(Paging, location="query")
    @providers_blp.response(200, s.ScheduleOut(many=True), headers=LINK_DOC)
    @requires("provider", *COUNCIL)
    def get(self, query, provider_id: UUID, lot: int):
        """Every version of the provider's pricing schedule for the lot"""
        page = Page.take(query)
        with _uow(read_only=True) as uow:
            provider = handlers.provider_with_lot(uow, current_principal(), provider_id, lot)
            return page.respond(page.window(views.provider_schedules(provider, lot, _today(uow))))

    @providers_blp.arguments(s.ProposalSchema)
    @providers_blp.response(201, s.ScheduleOut)
    @requires("provider")
    def post(self, body, provider_id: UUID, lot: int):
        """Propose a new version, effective from a date once the manager approves it"""
        with _uow() as uow:
            provider, schedule = handlers.propose_pricing(uow, current_principal(), provider_id, lot,
                                                          body["pricing_lines"], body["effective_from"])
            return _schedule(uow, provider, schedule)


def _schedule(uow: RegistryUnitOfWork, provider, schedule) -> dict:
    """The version as the provider just saved has it (nothing read again)."""
    in_force = provider.schedule_in_force(schedule.lot, _today(uow))
    return views.schedule_view(provider.id, provider.name, schedule, schedule is in_force)


@providers_blp.route("/<uuid:provider_id>/lots/<int:lot>/pricing-schedules/<int:version>/approval")
class ScheduleApproval(MethodView):
    @providers_blp.response(200, s.ScheduleOut)
    @requires("manager")
    def post(self, provider_id: UUID, lot: int, version: int):
        """Approve a proposed version: it takes effect on its date (or today if that has passed)"""
        with _uow() as uow:
            provider, schedule = handlers.approve_pricing(uow, current_principal(), provider_id, lot, version)
            return _schedule(uow, provider, schedule)


@providers_blp.route("/<uuid:provider_id>/lots/<int:lot>/pricing-schedules/<int:version>/rejection")
class ScheduleRejection(MethodView):
    @providers_blp.arguments(s.ReasonOnlySchema)
    @providers_blp.response(200, s.ScheduleOut)
    @requires("manager")
    def post(self, body, provider_id: UUID, lot: int, version: int):
        """Reject a proposed version, with a reason"""
        with _uow() as uow:
            provider, schedule = handlers.reject_pricing(uow, current_principal(), provider_id, lot, version,
                                                         body["reason"])
            return _schedule(uow, provider, schedule)


@providers_blp.route("/<uuid:provider_id>/lots/<int:lot>/pricing-schedules/<int:version>/withdrawal")
class ScheduleWithdrawal(MethodView):
    @providers_blp.response(200, s.ScheduleOut)
    @requires("provider")
    def post(self, provider_id: UUID, lot: int, version: int):
        """Withdraw a proposal the manager has not decided"""
        with _uow() as uow:
            provider, schedule = handlers.withdraw_pricing(uow, current_principal(), provider_id, lot, version)
            return _schedule(uow, provider, schedule)


@schedules_blp.route("")
class Schedules(MethodView):
    @schedules_blp.arguments(s.ScheduleQuery, location="query")
    @schedules_blp.response(200, s.ScheduleOut(many=True), headers=LINK_DOC)
    @requires(*COUNCIL)
    def get(self, query):
        """Pricing schedule versions across providers (status=proposed: awaiting approval)"""
        page = Page.take(query)
        with _uow(read_only=True) as uow:
            found = handlers.schedules_awaiting(uow, **query, limit=page.fetch, offset=page.offset)
            return page.respond(found, lambda row: views.schedule_view(*row, in_force=None))


# ------------------------------------------------------------ directory, audit


@directory_blp.route("")
class Directory(MethodView):
    @directory_blp.arguments(s.DirectoryQuery, location="query")
    @directory_blp.response(200, s.DirectoryEntryOut(many=True), headers=LINK_DOC)
    @public
    def get(self, query):
        """Providers admitted (and not suspended) by lot, as the council publishes them"""
        page = Page.take(query)
        with _uow(read_only=True) as uow:
            today, found = handlers.directory(uow, query.get("lot"), query["dps_id"])
            return page.respond(page.window(found),
                                lambda p: views.directory_entry(p, today, query.get("lot"), query["dps_id"]))
