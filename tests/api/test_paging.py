"""Every list of every service pages, one way (shared/paging.py): `page` and
`page_size` in the query string, at most MAX_PAGE_SIZE items, the `Link`
header to the next page; bad paging parameters are a 422 naming the
parameter.  The list endpoints are found from the OpenAPI documents: any GET
whose answer is a JSON array."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import requests

from shared.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from tests.api.awards.awards_support import EARLIER, MANAGER, NOW, OFFICER, admit, close, offer
from tests.support.runtime import build_runtime
from tests.support.security import fill_path, offline_documents, operations, role_headers

DOCUMENTS = offline_documents()


def _answers_a_list(spec: dict) -> bool:
    content = spec.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
    return content.get("schema", {}).get("type") == "array"


LISTS = [op for service, document in DOCUMENTS.items() for op in operations(service, document)
         if op.method == "get" and _answers_a_list(op.spec)]


def _headers(roles: list[str]) -> dict:
    if roles == ["public"]:
        return {}
    return role_headers("manager" if "manager" in roles else roles[0])


def test_the_list_endpoints_were_found():
    found = {str(op) for op in LISTS}
    assert len(found) >= 28, sorted(found)
    assert {"awards GET /v1/awards", "awards GET /v1/block-contracts/{contract_id}/allocations",
            "referrals GET /v1/referrals", "tracking GET /v1/placements", "provider_registry GET /v1/providers",
            "awards GET /v1/audit"} <= found


@pytest.mark.parametrize("operation", LISTS, ids=str)
def test_every_list_is_documented_with_page_page_size_and_the_link_header(operation):
    parameters = {p["name"]: p for p in operation.spec.get("parameters", []) if p.get("in") == "query"}
    assert {"page", "page_size"} <= set(parameters), str(operation)
    assert not {"limit", "offset"} & set(parameters), "one way of paging only"
    assert parameters["page_size"]["schema"]["maximum"] == MAX_PAGE_SIZE
    assert "Link" in operation.spec["responses"]["200"].get("headers", {})


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    """Each service's app on an empty SQLite file: a bad paging parameter is refused before anything is read."""
    made = {}
    for service in DOCUMENTS:
        url = f"sqlite:///{tmp_path_factory.mktemp(service)}/{service}.sqlite3"
        runtime = build_runtime(service, url, "amqp://unused//", migrate=False)
        from shared.web import create_app

        made[service] = create_app(runtime.definition, runtime.settings, runtime).test_client()
    return made


BAD = [({"page": "0"}, "page"), ({"page_size": "100000"}, "page_size"), ({"page": "two"}, "page"),
       ({"page_size": "0"}, "page_size"), ({"page": "99999999999999999999999"}, "page")]


@pytest.mark.parametrize("operation", LISTS, ids=str)
def test_bad_paging_parameters_are_refused_naming_the_parameter(apps, operation):
    client = apps[operation.service]
    for query, name in BAD:
        response = client.get(fill_path(operation.path), query_string=query, headers=_headers(operation.roles))
        assert response.status_code == 422, (str(operation), query, response.get_json())
        assert name in response.get_json()["errors"]["query"], (str(operation), query, response.get_json())


# --- walking a list page by page, on SQLite and on PostgreSQL


@pytest.fixture(params=["sqlite", "postgresql"])
def awards_client(request, tmp_path, client_for):
    url = (f"sqlite:///{tmp_path}/awards.sqlite3" if request.param == "sqlite"
           else request.getfixturevalue("database")("awards"))
    runtime = build_runtime("awards", url, "amqp://unused//", migrate=request.param == "sqlite")
    runtime.clock = lambda: NOW
    yield runtime, client_for(runtime)
    runtime.engine.dispose()


def _award_five(rt, client) -> set[str]:
    made = set()
    for n in range(5):
        provider, referral = uuid.uuid4(), uuid.uuid4()
        admit(rt, provider)
        priced = offer(provider, 4000, submitted_at=EARLIER + timedelta(minutes=n))
        close(rt, referral, [priced])
        response = client.post(f"/v1/referrals/{referral}/award", json={"offer_id": priced["offer_id"]},
                               headers=OFFICER)
        assert response.status_code == 201, response.get_json()
        made.add(response.get_json()["award_id"])
    return made


def test_a_list_is_read_whole_by_following_the_next_links(awards_client):
    rt, client = awards_client
    made = _award_five(rt, client)

    seen, url, pages = [], "/v1/awards?page_size=2", 0
    while url:
        response = client.get(url, headers=MANAGER)
        assert response.status_code == 200
        assert len(response.get_json()) <= 2
        seen += [a["award_id"] for a in response.get_json()]
        pages += 1
        links = {link["rel"]: link["url"] for link in requests.utils.parse_header_links(
            response.headers.get("Link", ""))}
        url = links.get("next")
        if pages > 1:
            assert links["first"] == "/v1/awards?page=1&page_size=2"

    assert pages == 3 and len(seen) == 5 and set(seen) == made


def test_a_list_answers_the_default_page_size_at_most_and_keeps_its_filters_in_the_links(awards_client):
    rt, client = awards_client
    _award_five(rt, client)
    whole = client.get("/v1/awards", headers=MANAGER)
    assert len(whole.get_json()) == 5 < DEFAULT_PAGE_SIZE and "Link" not in whole.headers
    second = client.get("/v1/awards?team=exclusions&page=2&page_size=3", headers=MANAGER)
    assert len(second.get_json()) == 2
    links = {link["rel"]: link["url"] for link in requests.utils.parse_header_links(second.headers["Link"])}
    assert links == {"prev": "/v1/awards?team=exclusions&page=1&page_size=3",
                     "first": "/v1/awards?team=exclusions&page=1&page_size=3"}
    assert client.get("/v1/awards?page=3&page_size=3", headers=MANAGER).get_json() == []
