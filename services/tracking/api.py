"""HTTP entry points of the tracking service.

- placements: list, read, start, end, cancel, safeguarding and provision;
- attendance: providers return weeks; everyone allowed reads them;
- concerns: what officers must see at once, and their acknowledgement;
- reviews and outcomes;
- reports (manager, reporting; officers for their team): JSON, CSV, a PNG;
- the audit trail (manager).
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.tracking import chart, domain, handlers, schemas, views
from services.tracking.domain import council_date
from shared import audit
from shared.actor import Actor
from shared.auth import current_principal, requires
from shared.csv_files import CSV_DOC, csv_response
from shared.paging import LINK_DOC, Page, Paging
from shared.schemas import cached

PEOPLE = ("provider", "officer", "manager")  # who may read a placement (each within their own)
COUNCIL = ("officer", "manager")
REPORTERS = ("manager", "reporting", "officer")

placements_blp = Blueprint("placements", __name__, url_prefix="/v1",
                           description="Placements after the award: start, end, cancel, safeguarding, provision")
attendance_blp = Blueprint("attendance", __name__, url_prefix="/v1",
                           description="Weekly attendance returns and the concerns they raise")
reviews_blp = Blueprint("reviews", __name__, url_prefix="/v1",
                        description="Reviews every six school weeks against the aims, with the child's and "
                                    "the family's views; outcomes")
reports_blp = Blueprint("reports", __name__, url_prefix="/v1/reports",
                        description="Reports for the manager, reporting and officers (their team's rows)")


def blueprints() -> list[Blueprint]:
    return [placements_blp, attendance_blp, reviews_blp, reports_blp, audit.blueprint()]


# -- helpers -----------------------------------------------------------------------------

def _runtime():
    return current_app.extensions["dps"]


def _actor() -> Actor:
    return current_principal()


def _today():
    return council_date(_runtime().clock())


def _policy() -> domain.ConcernPolicy:
    return concern_policy(_runtime().settings)


def concern_policy(settings) -> domain.ConcernPolicy:
    """The council's attendance concern thresholds, from the settings
    (DPS_ATTENDANCE_THRESHOLD, DPS_ATTENDANCE_WINDOW_WEEKS); a runtime's
    `settings.extra` may override them (tests do)."""
    extra = settings.extra or {}
    return domain.ConcernPolicy.from_settings(extra.get("attendance_threshold") or settings.attendance_threshold,
                                              extra.get("attendance_window_weeks")
                                              or settings.attendance_window_weeks)


def _visible(row: dict, caller: Actor) -> dict:
    domain.ensure_may_see(caller, row["provider_id"], row["team"])
    if caller.is_provider:
        # the child's identity and the council's own reasons stay on the council's side
        row = {**row, "child_ref": None, "overlap_reason": None, "cancel_reason": None}
    return row


def _detail(placement_id: UUID, caller: Actor) -> dict:
    # Two statements: the row (its stored review date is the aggregate's, kept
    # on every save) and the weeks returned; the rest of the aggregate is not needed.
    with _runtime().unit_of_work(read_only=True) as uow:
        row = _visible(views.placement_row(uow.session, placement_id, with_open_concerns=True), caller)
        returns = views.attendance_returns(views.attendance_weeks(uow.session, placement_id))
        today = council_date(uow.now())
    return {**row, **_rates(returns, today), "review_overdue": domain.review_overdue(row["review_due_on"], today),
            "weeks_returned": len(returns)}


def _rates(returns: list[domain.AttendanceReturn], today: date) -> dict:
    return {"attendance_rate": domain.overall_rate(returns),
            "recent_attendance_rate": domain.window_rate(returns, today, _policy().window_weeks)}


# -- placements ---------------------------------------------------------------------------

@placements_blp.route("/placements")
class Placements(MethodView):
    @placements_blp.arguments(schemas.PlacementQuery, location="query")
    @placements_blp.response(200, schemas.PlacementSchema(many=True), headers=LINK_DOC)
    @requires(*PEOPLE)
    def get(self, query):
        """Placements, newest award first (a provider's own; an officer's team's)"""
        caller, page = _actor(), Page.take(query)
        filters = domain.visible_filters(caller, query)
        needs_review = filters.pop("needs_review", None)
        with _runtime().unit_of_work(read_only=True) as uow:
            rows = views.find_placements(uow.session, needs_review_on=council_date(uow.now()) if needs_review
                                        else None, **filters, limit=page.fetch, offset=page.offset)
        return page.respond(rows, lambda row: _visible(row, caller))


@placements_blp.route("/placements/<uuid:placement_id>")
class PlacementById(MethodView):
    @placements_blp.response(200, schemas.PlacementDetailSchema)
    @requires(*PEOPLE)
    def get(self, placement_id):
        """One placement, with its attendance rates and review status"""
        return _detail(placement_id, _actor())

    @placements_blp.arguments(schemas.ArrangementsRequest)
    @placements_blp.response(200, schemas.PlacementDetailSchema)
    @requires(*COUNCIL)
    def patch(self, body, placement_id):
        """Record who holds safeguarding responsibility and whether this is the main provision"""
        caller = _actor()
        with _runtime().unit_of_work(_actor()) as uow:
            handlers.set_arrangements(uow, caller, placement_id, **body)
        return _detail(placement_id, caller)


@placements_blp.route("/placements/<uuid:placement_id>/start")
class StartPlacement(MethodView):
    @placements_blp.arguments(schemas.StartRequest)
    @placements_blp.response(200, schemas.PlacementDetailSchema)
    @placements_blp.alt_response(409, description="Not awarded, or overlaps another full-time main placement")
    @requires(*PEOPLE)
    def post(self, body, placement_id):
        """Confirm the child has started (the provider for its own placement, or an officer)"""
        caller = _actor()
        with _runtime().unit_of_work(_actor()) as uow:
            handlers.start_placement(uow, caller, placement_id, body["started_on"], body.get("overlap_reason"),
                                     calendar=_runtime().calendar)
        return _detail(placement_id, caller)


@placements_blp.route("/placements/<uuid:placement_id>/end")
class EndPlacement(MethodView):
    @placements_blp.arguments(schemas.EndRequest)
    @placements_blp.response(200, schemas.PlacementDetailSchema)
    @placements_blp.alt_response(409, description="The placement is not running")
    @requires(*PEOPLE)
    def post(self, body, placement_id):
        """End a running placement with its end reason and the child's next step"""
        caller = _actor()
        with _runtime().unit_of_work(_actor()) as uow:
            handlers.end_placement(uow, caller, placement_id, **body)
        return _detail(placement_id, caller)


@placements_blp.route("/placements/<uuid:placement_id>/cancel")
class CancelPlacement(MethodView):
    @placements_blp.arguments(schemas.CancelRequest)
    @placements_blp.response(200, schemas.PlacementDetailSchema)
    @placements_blp.alt_response(409, description="The placement has started (end it instead) or is closed")
    @requires(*COUNCIL)
    def post(self, body, placement_id):
        """Cancel an award the child never took up: why, and where the child goes instead"""
        caller = _actor()
        with _runtime().unit_of_work(_actor()) as uow:
            handlers.cancel_placement(uow, caller, placement_id, **body)
        return _detail(placement_id, caller)


# -- attendance and concerns ----------------------------------------------------------------

@attendance_blp.route("/placements/<uuid:placement_id>/attendance")
class Attendance(MethodView):
    @attendance_blp.response(200, schemas.AttendanceSchema)
    @requires(*PEOPLE)
    def get(self, placement_id):
        """The weeks returned, with each week's rate and the overall and recent rates"""
        caller = _actor()
        with _runtime().unit_of_work(read_only=True) as uow:
            _visible(views.placement_row(uow.session, placement_id), caller)
            weeks = views.attendance_weeks(uow.session, placement_id)
            today = council_date(uow.now())
        returns = views.attendance_returns(weeks)
        return {"placement_id": placement_id, **_rates(returns, today), "weeks": weeks}

    @attendance_blp.arguments(schemas.AttendanceRequest)
    @attendance_blp.response(201, schemas.AttendanceRecordedSchema)
    @attendance_blp.alt_response(409, description="The placement has not started")
    @requires("provider", "officer", "manager")
    def post(self, body, placement_id):
        """A provider's return for one week of its own placement (again for the same week: a correction);
        for an off-DPS placement, whose provider has no account here, the team's officer returns it"""
        caller, policy = _actor(), _policy()
        with _runtime().unit_of_work(_actor()) as uow:
            placement, week, concerns = handlers.record_attendance(uow, caller, placement_id, policy=policy,
                                                                   **body)
            today = council_date(uow.now())
            name = uow.registry.name_of(placement.provider_id)
            row = {**vars(week), "placement_id": placement_id, "rate": week.rate}
            return {"placement_id": placement_id, "week": row, "correction": week.corrections > 0,
                    "attendance_rate": placement.attendance_rate,
                    "recent_attendance_rate": placement.recent_attendance_rate(today, policy.window_weeks),
                    "concerns_raised": [{**views.concern_row(c), "provider_name": name} for c in concerns]}


@attendance_blp.route("/concerns")
class Concerns(MethodView):
    @attendance_blp.arguments(schemas.ConcernQuery, location="query")
    @attendance_blp.response(200, schemas.ConcernSchema(many=True), headers=LINK_DOC)
    @requires(*COUNCIL)
    def get(self, query):
        """Concerns raised by attendance returns, newest first (an officer's team's)"""
        page = Page.take(query)
        filters = domain.visible_filters(_actor(), query)
        with _runtime().unit_of_work(read_only=True) as uow:
            return page.respond(views.find_concerns(uow.session, **filters, limit=page.fetch, offset=page.offset))


@attendance_blp.route("/concerns/<uuid:concern_id>/acknowledge")
class AcknowledgeConcern(MethodView):
    @attendance_blp.arguments(schemas.AcknowledgeRequest)
    @attendance_blp.response(200, schemas.ConcernSchema)
    @attendance_blp.alt_response(409, description="Already acknowledged")
    @requires(*COUNCIL)
    def post(self, body, concern_id):
        """An officer has seen the concern, and says what is being done"""
        with _runtime().unit_of_work(_actor()) as uow:
            concern = handlers.acknowledge_concern(uow, _actor(), concern_id, body["note"])
            return {**views.concern_row(concern), "provider_name": uow.registry.name_of(concern.provider_id)}


# -- reviews and outcomes -------------------------------------------------------------------

def _review_row(review, placement_id, next_review_due=None) -> dict:
    return {**vars(review), "placement_id": placement_id, "recorded_by": review.by,
            "attendance": review.attendance.value, "attitude": review.attitude.value,
            "attainment": review.attainment.value, "behaviour": review.behaviour.value,
            "next_review_due": next_review_due}


@reviews_blp.route("/placements/<uuid:placement_id>/reviews")
class Reviews(MethodView):
    @reviews_blp.arguments(Paging, location="query")
    @reviews_blp.response(200, schemas.ReviewSchema(many=True), headers=LINK_DOC)
    @requires(*PEOPLE)
    def get(self, query, placement_id):
        """The placement's reviews, oldest first"""
        page = Page.take(query)
        with _runtime().unit_of_work(read_only=True) as uow:
            _visible(views.placement_row(uow.session, placement_id), _actor())
            return page.respond(page.window(views.reviews_of(uow.session, placement_id)))

    @reviews_blp.arguments(schemas.ReviewRequest)
    @reviews_blp.response(201, schemas.ReviewSchema)
    @reviews_blp.alt_response(409, description="The placement is not running")
    @requires(*COUNCIL)
    def post(self, body, placement_id):
        """Review progress against the aims (clears any flag for review)"""
        with _runtime().unit_of_work(_actor()) as uow:
            placement, review = handlers.record_review(uow, _actor(), placement_id, **body,
                                                       calendar=_runtime().calendar)
        return _review_row(review, placement_id, placement.review_due_date)


@reviews_blp.route("/placements/<uuid:placement_id>/outcomes")
class Outcomes(MethodView):
    @reviews_blp.arguments(Paging, location="query")
    @reviews_blp.response(200, schemas.OutcomeSchema(many=True), headers=LINK_DOC)
    @requires(*PEOPLE)
    def get(self, query, placement_id):
        """Attainment, qualifications and engagement recorded, oldest first"""
        page = Page.take(query)
        with _runtime().unit_of_work(read_only=True) as uow:
            row = _visible(views.placement_row(uow.session, placement_id), _actor())
            return page.respond(page.window(views.outcomes_of(uow.session, placement_id)), lambda outcome: {
                **outcome, "next_step": row["next_step"] if outcome["stage"] == "end" else None})

    @reviews_blp.arguments(schemas.OutcomeRequest)
    @reviews_blp.response(201, schemas.OutcomeSchema)
    @reviews_blp.alt_response(409, description="The placement has not started")
    @requires(*PEOPLE)
    def post(self, body, placement_id):
        """Record attainment (English, maths, science), qualifications gained and engagement (1-5)"""
        with _runtime().unit_of_work(_actor()) as uow:
            placement, outcome = handlers.record_outcome(uow, _actor(), placement_id, **body)
        return {**views.outcome_row(vars(outcome)), "placement_id": placement_id, "recorded_by": outcome.by,
                "next_step": placement.next_step}


# -- reports ------------------------------------------------------------------------------

def _wants_csv(query: dict) -> bool:
    if query.get("format"):
        return query["format"] == "csv"
    accept = request.accept_mimetypes
    return accept["text/csv"] > accept["application/json"]


def _csv(rows: list[dict], schema: type, name: str) -> Response:
    """The rows as the schema dumps them, in a CSV that opens cleanly (shared.csv_files)."""
    dumped = cached(schema, many=True).dump(rows)
    declared = list(cached(schema).fields)
    columns = [c for c in declared if any(c in row for row in dumped)] if dumped else declared
    return csv_response(columns, dumped, name)


def _scope(provider_id: UUID | None = None) -> dict:
    """What the asker may see of the reports (an officer: their team's rows)."""
    return domain.visible_filters(_actor(), {"provider_id": provider_id})


def _report_operation(query_schema: type, row_schema: type):
    """What every report's GET declares: its query, its rows (JSON, paged, or the whole as CSV) and who may
    read it (an officer: their team's rows)."""
    decorators = (reports_blp.arguments(query_schema, location="query"),
                  reports_blp.response(200, row_schema(many=True), headers=LINK_DOC),
                  reports_blp.doc(**CSV_DOC), requires(*REPORTERS))

    def decorate(view):
        for decorator in reversed(decorators):
            view = decorator(view)
        return view

    return decorate


def _report(query: dict, rows: list[dict], schema: type, name: str):
    """A CSV download is the whole report; the JSON form pages like every list."""
    page = Page.take(query)
    return _csv(rows, schema, name) if _wants_csv(query) else page.respond(page.window(rows))


@reports_blp.route("/active-placements")
class ActivePlacements(MethodView):
    @_report_operation(schemas.ActiveQuery, schemas.ActiveRowSchema)
    def get(self, query):
        """Placements active on a day (default today) by lot, team, provider and reason for AP"""
        on = query.get("on") or _today()
        by = tuple(dict.fromkeys(query["by"]))
        with _runtime().unit_of_work(read_only=True) as uow:
            rows = views.active_placements(uow.session, _scope(), on, by)
        return _report(query, rows, schemas.ActiveRowSchema, f"active-placements-{on}")


@reports_blp.route("/committed-spend")
class CommittedSpend(MethodView):
    @_report_operation(schemas.SpendQuery, schemas.SpendRowSchema)
    def get(self, query):
        """Committed spend in pence by provider, lot and month"""
        with _runtime().unit_of_work(read_only=True) as uow:
            rows = views.committed_spend(uow.session, _scope(query.get("provider_id")),
                                           query.get("from_month"), query.get("to_month"))
        return _report(query, rows, schemas.SpendRowSchema, "committed-spend")


@reports_blp.route("/accountability")
class Accountability(MethodView):
    @_report_operation(schemas.AccountabilityQuery, schemas.AccountabilityRowSchema)
    def get(self, query):
        """Per provider: placements, average attendance, completion, reintegration and progression rates,
        concerns"""
        with _runtime().unit_of_work(read_only=True) as uow:
            rows = views.accountability(uow.session, _scope(query.get("provider_id")))
        return _report(query, rows, schemas.AccountabilityRowSchema, "provider-accountability")


@reports_blp.route("/overdue-reviews")
class OverdueReviews(MethodView):
    @_report_operation(schemas.OverdueQuery, schemas.OverdueRowSchema)
    def get(self, query):
        """Running placements past their six-weekly review or flagged for review, longest overdue first"""
        today = query.get("on") or _today()
        with _runtime().unit_of_work(read_only=True) as uow:
            rows = views.overdue_reviews(uow.session, _scope(), today)
        return _report(query, rows, schemas.OverdueRowSchema, f"overdue-reviews-{today}")


@reports_blp.route("/sixth-day")
class SixthDay(MethodView):
    @reports_blp.arguments(schemas.SixthDayQuery, location="query")
    @reports_blp.response(200, schemas.SixthDayRowSchema(many=True), headers=LINK_DOC)
    @requires(*REPORTERS)
    def get(self, query):
        """Each child's sixth-day deadline, first day of full-time provision, and met / at risk / missed by N
        school days; an excluded child placed only part-time is flagged"""
        today = query.get("on") or _today()
        runtime = _runtime()
        with runtime.unit_of_work(read_only=True) as uow:
            rows = views.sixth_day(uow.session, _scope(), today, runtime.calendar, runtime.settings.full_time_hours,
                                   query.get("status"))
        return _report(query, rows, schemas.SixthDayRowSchema, f"sixth-day-{today}")


@reports_blp.route("/census")
class Census(MethodView):
    @reports_blp.arguments(schemas.CensusQuery, location="query")
    @reports_blp.response(200, schemas.CensusSchema)
    @reports_blp.doc(**CSV_DOC)
    @requires(*REPORTERS)
    def get(self, query):
        """Placements on AP census day, pseudonymous: the cross-check of the census return referrals builds"""
        with _runtime().unit_of_work(read_only=True) as uow:
            day, rows = views.census(uow.session, _scope(), query["year"], _runtime().settings.ap_census_days)
        if _wants_csv(query):
            return _csv(rows, schemas.CensusRowSchema, f"ap-census-{query['year']}")
        return {"year": query["year"], "census_day": day, "pupils": rows}


CHART_TABLES = ("attendance-by-week", "spend-by-month")


@reports_blp.route("/attendance-by-week")
class AttendanceByWeek(MethodView):
    @_report_operation(schemas.ChartTableQuery, schemas.AttendanceWeekRowSchema)
    def get(self, query):
        """Attendance by week, every week returned (the table the chart's attendance is drawn from)"""
        with _runtime().unit_of_work(read_only=True) as uow:
            weeks = views.attendance_by_week(uow.session, _scope(query.get("provider_id")))
        rows = [{**vars(w), "attendance_rate": w.rate} for w in weeks]
        return _report(query, rows, schemas.AttendanceWeekRowSchema, "attendance-by-week")


@reports_blp.route("/spend-by-month")
class SpendByMonth(MethodView):
    @_report_operation(schemas.ChartTableQuery, schemas.SpendMonthRowSchema)
    def get(self, query):
        """Committed and spent (to today) pence by month, from the first month with either to the last (the
        table the chart's spend is drawn from)"""
        with _runtime().unit_of_work(read_only=True) as uow:
            months = views.spend_by_month(uow.session, _scope(query.get("provider_id")), _today())
        return _report(query, [vars(m) for m in months], schemas.SpendMonthRowSchema, "spend-by-month")


def _chart_tables(provider_id: UUID | None) -> list[str]:
    """Where the tables a chart is drawn from are (its Link header, and printed under it)."""
    query = f"?provider_id={provider_id}" if provider_id else ""
    return [f"{reports_blp.url_prefix}/{table}{query}" for table in CHART_TABLES]


@reports_blp.route("/chart.png")
class Chart(MethodView):
    @reports_blp.arguments(schemas.ChartQuery, location="query")
    @reports_blp.response(200, content_type="image/png", headers={"Link": {
        "description": 'RFC 8288 links (rel="describedby") to the tables the chart is drawn from, as JSON or '
                       "CSV: /v1/reports/attendance-by-week and /v1/reports/spend-by-month",
        "schema": {"type": "string"}}},
        description="A PNG chart: attendance by week, committed and spent money by month, on one time axis")
    @reports_blp.doc(responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}})
    @requires(*REPORTERS)
    def get(self, query):
        """Attendance by week and committed and spent money by month on one time axis, over the period that has
        data, for one provider or the whole DPS; the tables it is drawn from are linked"""
        caller = _actor()
        scope = _scope(query.get("provider_id"))
        with _runtime().unit_of_work(read_only=True) as uow:
            data = domain.chart_data(views.attendance_by_week(uow.session, scope),
                                     views.spend_by_month(uow.session, scope, _today()))
            who = uow.registry.name_of(scope["provider_id"]) if scope.get("provider_id") else "The whole DPS"
        if caller.team_scope:
            who += f" ({caller.team_scope} team)"
        tables = _chart_tables(query.get("provider_id"))
        png = chart.render(f"{who}: attendance and spend", data, float(_policy().threshold), tables)
        links = ", ".join(f'<{url}>; rel="describedby"; type="application/json"' for url in tables)
        return Response(png, mimetype="image/png", headers={"Link": links})
