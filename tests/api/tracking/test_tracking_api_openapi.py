"""Every tracking endpoint declares who may call it (x-roles in the OpenAPI
document), and none is open to the public."""

from __future__ import annotations

from shared.service import Runtime, load_definition
from shared.web import create_app
from tests.support import runtime as support

EXPECTED = {
    ("get", "/v1/placements"): {"provider", "officer", "manager"},
    ("get", "/v1/placements/{placement_id}"): {"provider", "officer", "manager"},
    ("patch", "/v1/placements/{placement_id}"): {"officer", "manager"},
    ("post", "/v1/placements/{placement_id}/start"): {"provider", "officer", "manager"},
    ("post", "/v1/placements/{placement_id}/end"): {"provider", "officer", "manager"},
    ("post", "/v1/placements/{placement_id}/cancel"): {"officer", "manager"},
    ("get", "/v1/placements/{placement_id}/attendance"): {"provider", "officer", "manager"},
    ("post", "/v1/placements/{placement_id}/attendance"): {"provider", "officer", "manager"},
    ("get", "/v1/concerns"): {"officer", "manager"},
    ("post", "/v1/concerns/{concern_id}/acknowledge"): {"officer", "manager"},
    ("get", "/v1/placements/{placement_id}/reviews"): {"provider", "officer", "manager"},
    ("post", "/v1/placements/{placement_id}/reviews"): {"officer", "manager"},
    ("get", "/v1/placements/{placement_id}/outcomes"): {"provider", "officer", "manager"},
    ("post", "/v1/placements/{placement_id}/outcomes"): {"provider", "officer", "manager"},
    ("get", "/v1/reports/active-placements"): {"manager", "reporting", "officer"},
    ("get", "/v1/reports/committed-spend"): {"manager", "reporting", "officer"},
    ("get", "/v1/reports/accountability"): {"manager", "reporting", "officer"},
    ("get", "/v1/reports/overdue-reviews"): {"manager", "reporting", "officer"},
    ("get", "/v1/reports/sixth-day"): {"manager", "reporting", "officer"},
    ("get", "/v1/reports/census"): {"manager", "reporting", "officer"},
    ("get", "/v1/reports/chart.png"): {"manager", "reporting", "officer"},
    ("get", "/v1/reports/attendance-by-week"): {"manager", "reporting", "officer"},
    ("get", "/v1/reports/spend-by-month"): {"manager", "reporting", "officer"},
    ("get", "/v1/audit"): {"manager"},
    ("get", "/v1/subject-access/{child_ref}"): {"manager"},
    ("get", "/v1/teams"): {"officer", "manager", "evaluator", "provider", "reporting"},
}


def _spec() -> dict:
    runtime = Runtime(load_definition("tracking"), support.test_settings("tracking", "sqlite://", "amqp://unused//"))
    app = create_app(runtime.definition, runtime.settings, runtime)
    return app.test_client().get("/openapi.json").json


def _operations() -> dict:
    spec = _spec()
    return {(method, path): operation for path, item in spec["paths"].items()
            for method, operation in item.items() if method in ("get", "post", "patch", "put", "delete")}


def test_every_endpoint_names_the_roles_that_may_call_it():
    operations = _operations()
    assert {key: set(op["x-roles"]) for key, op in operations.items()} == EXPECTED


def test_the_next_steps_are_documented_from_the_domain():
    end = _spec()["components"]["schemas"]["EndRequest"]["properties"]
    assert set(end["next_step"]["enum"]) == {
        "reintegrated_mainstream", "special_school", "further_education", "training_or_apprenticeship",
        "employment", "neet", "moved_away", "other"}
    assert "cancelled" not in end["end_reason"]["enum"]  # only a cancellation gives that reason


def test_each_report_documents_its_csv_and_the_chart_where_its_tables_are():
    operations = _operations()
    for path in ("active-placements", "committed-spend", "accountability", "overdue-reviews", "census",
                 "attendance-by-week", "spend-by-month"):
        content = operations[("get", f"/v1/reports/{path}")]["responses"]["200"]["content"]
        assert {"application/json", "text/csv"} <= set(content), path
    chart = operations[("get", "/v1/reports/chart.png")]["responses"]["200"]
    assert set(chart["content"]) == {"image/png"}
    assert "attendance-by-week" in chart["headers"]["Link"]["description"]
