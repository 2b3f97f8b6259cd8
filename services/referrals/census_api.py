"""HTTP entry point of the January AP census return (services/referrals/census.py).

- `GET /v1/reports/ap-census?year=2027`: the manager (every team's children) and officers (their team's),
  as JSON or as DfE's CSV (`format=csv` or `Accept: text/csv`).  Never a provider.
"""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.referrals import census, views
from services.referrals import schemas as s
from services.referrals.domain.census_items import census_items
from shared.auth import current_principal, requires
from shared.csv_files import csv_response

reports = Blueprint("reports", __name__, url_prefix="/v1/reports",
                    description="Statutory returns built where the child's identity lives: the AP census")


@reports.route("/ap-census")
class ApCensus(MethodView):
    @reports.arguments(s.CensusQuery, location="query")
    @reports.response(200, s.CensusOut, description="JSON; or text/csv: DfE's items, one row per child")
    @requires("officer", "manager")
    def get(self, query):
        """The January AP census return: children in council-funded AP on census day, with DfE's items and codes"""
        settings = current_app.extensions["dps"].settings
        with current_app.extensions["dps"].unit_of_work(current_principal()) as uow:
            result = census.ap_census(uow, current_principal(), query["year"], settings.ap_census_days,
                                      through=f"{request.method} {request.path}")
        if _wants_csv(query):
            # DfE's item names, as its specification spells them (shared.csv_files: BOM, CRLF)
            return csv_response(census_items().columns, (row.values for row in result.rows),
                                f"ap-census-{result.year}", names_given=True)
        return views.census_view(result)


def _wants_csv(query: dict) -> bool:
    if query.get("format"):
        return query["format"] == "csv"
    accept = request.accept_mimetypes
    return accept["text/csv"] > accept["application/json"]
