"""Webhooks reach only the public internet (issue 13, defect 4: SSRF).

A provider chooses its webhook URL, so the URL is untrusted: a provider must
not be able to make the council's servers post to, or probe, the council's own
network.  Only `https` URLs whose host resolves to public addresses are
accepted; the rule is checked when the URL is registered (422 naming `url`)
and again at each delivery, after resolving the name, and the connection goes
to the address that was checked (a name that rebinds to an internal address
gets nothing).  An operator may allow-list hosts (DPS_WEBHOOK_ALLOWED_HOSTS);
development may allow http to loopback (DPS_WEBHOOK_ALLOW_LOOPBACK).  The
delivery log a provider reads says delivered, failed or refused, never the
text of an internal error, and the HTTP call is made outside any database
transaction.

The name resolver is replaced by a table (`names`): the tests need no DNS.
Deliveries run on PostgreSQL and SQLite.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from services.referrals import models, webhooks
from tests.api.referrals.referrals_support import (
    MANAGER,
    NOW,
    admit,
    deliver,
    fields_of,
    provider_auth,
    published_referral,
    snapshot,
    status_data,
)

PUBLIC = "93.184.216.34"  # an address on the public internet (nothing is sent to it in these tests)


@pytest.fixture
def names(monkeypatch):
    """host -> addresses the resolver answers; anything else is resolved for real (IP literals, localhost)."""
    table: dict[str, list[str]] = {"acorn.example": [PUBLIC], "hooks.acorn.example": [PUBLIC]}

    def resolve(host, port):
        if host in table:
            return list(table[host])
        try:
            return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
        except (OSError, UnicodeError):
            return []

    monkeypatch.setattr(webhooks, "resolve", resolve, raising=False)
    for name in ("DPS_WEBHOOK_ALLOWED_HOSTS", "DPS_WEBHOOK_ALLOW_LOOPBACK"):
        monkeypatch.delenv(name, raising=False)
    return table


@pytest.fixture
def loopback_allowed(monkeypatch, names):
    monkeypatch.setenv("DPS_WEBHOOK_ALLOW_LOOPBACK", "true")
    return names


class Receiver:
    """A system on 127.0.0.1 that records what reaches it; `during` runs while a POST is being answered."""

    def __init__(self, during=None) -> None:
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers),
                                          "during": during() if during else None})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _put(client, provider_id, url):
    return client.put("/v1/provider/webhook", headers=provider_auth(provider_id), json={"url": url})


def _run_jobs_at(rt, moment):
    rt.clock = lambda: moment
    assert "deliver_webhooks" in rt.run_jobs(force=True)


def _deliveries(client, provider_id):
    return client.get("/v1/provider/webhook/deliveries", headers=provider_auth(provider_id)).json


def _store_webhook(rt, provider_id, url):
    """A webhook stored before this rule existed (or by any other way round the API)."""
    with rt.engine.begin() as connection:
        connection.execute(models.webhooks.insert().values(provider_id=provider_id, url=url, secret="s" * 43,
                                                           registered_by="legacy", registered_at=NOW,
                                                           secret_issued_at=NOW))


# --- registering ---------------------------------------------------------------------------------------

INTERNAL_URLS = [
    "http://127.0.0.1:9/hook", "https://127.0.0.1/hook", "https://127.1.2.3/", "https://localhost/hook",
    "https://[::1]/hook", "https://[::ffff:127.0.0.1]/hook", "https://[::ffff:10.0.0.1]/", "https://0.0.0.0/",
    "https://[::]/", "https://2130706433/", "https://0x7f000001/", "https://10.0.0.5/", "https://172.16.4.4/",
    "https://192.168.1.1/router", "https://100.64.0.1/", "https://169.254.169.254/latest/meta-data/",
    "https://[fe80::1]/", "https://[fd12:3456::1]/", "https://224.0.0.1/", "https://[ff02::1]/",
    "https://240.0.0.1/", "https://255.255.255.255/", "https://198.18.0.1/", "https://[64:ff9b::7f00:1]/",
    "https://[2002:7f00:1::]/", "https://internal.example/", "https://split.example/", "https://nowhere.example/",
]


def test_internal_addresses_are_refused_at_registration_naming_url(client, rt, names):
    names["internal.example"] = ["10.1.2.3"]
    names["split.example"] = [PUBLIC, "192.168.0.10"]  # one internal answer is enough to refuse
    acorn = admit(rt)
    before = snapshot(rt)
    accepted = []
    for url in INTERNAL_URLS:
        response = _put(client, acorn, url)
        if response.status_code != 422 or "url" not in fields_of(response):
            accepted.append((url, response.status_code))
    assert accepted == []
    assert snapshot(rt) == before


def test_malformed_urls_are_refused_naming_url_never_a_server_error(client, rt, names):
    acorn = admit(rt)
    before = snapshot(rt)
    for url in ("https://[::1/", "https://[zzz]/dps", "https://a b.example/", "https://acorn.example/p?x=1\r\nX: 1",
                "https://a..b.example/", "https://acorn.example:0/", "https://" + "a" * 300 + ".example/"):
        response = _put(client, acorn, url)
        assert response.status_code == 422 and "url" in fields_of(response), (url, response.status_code)
    assert snapshot(rt) == before


def test_the_refusal_says_why(client, rt, names):
    acorn = admit(rt)
    loopback = _put(client, acorn, "https://127.0.0.1/hook")
    assert "loopback" in " ".join(fields_of(loopback)["url"])
    plain = _put(client, acorn, "http://acorn.example/hook")
    assert "https" in " ".join(fields_of(plain)["url"])
    names["internal.example"] = ["10.1.2.3"]
    named = " ".join(fields_of(_put(client, acorn, "https://internal.example/"))["url"])
    unknown = " ".join(fields_of(_put(client, acorn, "https://nowhere.example/"))["url"])
    # A name inside the council's network and a name that does not resolve get the same answer: the
    # refusal is no oracle for which internal names exist.
    assert "public" in named and named == unknown.replace("nowhere.example", "internal.example")


def test_an_https_url_on_the_public_internet_is_accepted(client, rt, names):
    acorn = admit(rt)
    response = _put(client, acorn, "https://hooks.acorn.example/dps")
    assert response.status_code == 200, response.json
    assert response.json["url"] == "https://hooks.acorn.example/dps"


def test_an_operator_may_allow_list_a_host_on_a_private_network(client, rt, names, monkeypatch):
    names["hscn.acorn.example"] = ["10.20.30.40"]
    monkeypatch.setenv("DPS_WEBHOOK_ALLOWED_HOSTS", "other.example, HSCN.acorn.example")
    acorn = admit(rt)
    assert _put(client, acorn, "https://hscn.acorn.example/dps").status_code == 200
    assert _put(client, acorn, "http://hscn.acorn.example/dps").status_code == 422  # still only over TLS
    assert _put(client, acorn, "https://10.20.30.40/dps").status_code == 422  # the host, not its address


def test_the_development_switch_allows_http_to_loopback_only(client, rt, loopback_allowed):
    acorn = admit(rt)
    assert _put(client, acorn, "http://127.0.0.1:9/hook").status_code == 200
    assert _put(client, acorn, "http://localhost:9/hook").status_code == 200
    for url in ("http://acorn.example/hook", "https://10.0.0.5/hook", "https://169.254.169.254/"):
        assert _put(client, acorn, url).status_code == 422, url


# --- delivering: PostgreSQL and SQLite -------------------------------------------------------------------
# `stack` (conftest.py): the service on either database

def test_a_webhook_to_loopback_stored_before_the_rule_gets_nothing(stack, names):
    rt, client = stack
    acorn = admit(rt)
    with Receiver() as system:
        _store_webhook(rt, acorn, f"http://127.0.0.1:{system.port}/dps")
        published_referral(client)
        _run_jobs_at(rt, NOW + timedelta(seconds=1))
    assert system.received == []
    [delivery] = _deliveries(client, acorn)
    assert delivery["last_status"] is None and delivery["last_error"] == webhooks.REFUSED_ADDRESS
    assert delivery["attempts"] == 1


def test_a_name_that_rebinds_to_an_internal_address_after_registration_gets_nothing(stack, names):
    rt, client = stack
    acorn = admit(rt)
    with Receiver() as system:
        assert _put(client, acorn, f"https://hooks.acorn.example:{system.port}/dps").status_code == 200
        published_referral(client)
        names["hooks.acorn.example"] = ["127.0.0.1"]  # the provider's DNS now points inside
        _run_jobs_at(rt, NOW + timedelta(seconds=1))
    assert system.received == []
    [delivery] = _deliveries(client, acorn)
    assert delivery["state"] == "pending" and delivery["last_error"] == webhooks.REFUSED_ADDRESS


def test_the_connection_goes_to_the_address_checked_with_the_name_as_host(stack, loopback_allowed):
    """The name is resolved once, checked, and the connection made to that address (pinned): a second
    lookup, which could answer differently, is never made.  `pinned.test` resolves only in our table."""
    rt, client = stack
    loopback_allowed["pinned.test"] = ["127.0.0.1"]
    acorn = admit(rt)
    with Receiver() as system:
        assert _put(client, acorn, f"http://pinned.test:{system.port}/dps").status_code == 200
        published_referral(client)
        _run_jobs_at(rt, NOW + timedelta(seconds=1))
    [post] = system.received
    assert post["headers"]["Host"] == f"pinned.test:{system.port}"
    [delivery] = _deliveries(client, acorn)
    assert delivery["state"] == "delivered" and delivery["last_status"] == 204


def test_the_delivery_log_never_carries_internal_error_text(stack, loopback_allowed):
    rt, client = stack
    acorn = admit(rt)
    with Receiver() as closed:
        port = closed.port  # a port where nothing listens once this server is gone
    assert _put(client, acorn, f"http://127.0.0.1:{port}/nothing-listens").status_code == 200
    published_referral(client)
    _run_jobs_at(rt, NOW + timedelta(seconds=1))
    [delivery] = _deliveries(client, acorn)
    assert delivery["last_status"] is None and delivery["last_error"] == webhooks.NO_ANSWER
    [seen] = client.get("/v1/webhook-deliveries", headers=MANAGER).json
    assert seen["last_error"] == webhooks.NO_ANSWER  # the operator reads the details in the logs


def test_the_http_call_is_made_outside_any_database_transaction(stack, loopback_allowed):
    """While the provider's system is answering, another connection can lock the delivery's row
    (PostgreSQL: FOR UPDATE NOWAIT) or take the write lock (SQLite: BEGIN IMMEDIATE, no wait)."""
    rt, client = stack
    acorn = admit(rt)

    def lock_from_outside() -> str:
        try:
            if rt.engine.dialect.name == "sqlite":
                raw = sqlite3.connect(rt.engine.url.database, timeout=0, isolation_level=None)
                try:
                    raw.execute("BEGIN IMMEDIATE")
                    raw.execute("ROLLBACK")
                finally:
                    raw.close()
            else:
                with rt.engine.connect() as connection:
                    d = models.webhook_deliveries
                    connection.execute(sa.select(d.c.id).with_for_update(nowait=True)).all()
                    connection.rollback()
            return "free"
        except (sa.exc.OperationalError, sqlite3.OperationalError) as exc:
            return f"locked: {type(exc).__name__}"

    with Receiver(during=lock_from_outside) as system:
        assert _put(client, acorn, f"http://127.0.0.1:{system.port}/dps").status_code == 200
        published_referral(client)
        _run_jobs_at(rt, NOW + timedelta(seconds=1))
    assert [post["during"] for post in system.received] == ["free"]
    [delivery] = _deliveries(client, acorn)
    assert delivery["state"] == "delivered"


def test_a_provider_removed_from_the_lot_is_not_sent_a_pending_delivery(stack, loopback_allowed):
    rt, client = stack
    acorn = admit(rt)
    with Receiver() as system:
        assert _put(client, acorn, f"http://127.0.0.1:{system.port}/dps").status_code == 200
        published_referral(client)
        deliver(rt, "membership.removed", status_data(acorn, status="removed", at=NOW,
                                                      reason="Safeguarding concern upheld"))
        _run_jobs_at(rt, NOW + timedelta(seconds=1))
    assert system.received == []
    [delivery] = _deliveries(client, acorn)
    assert delivery["state"] == "failed" and delivery["attempts"] == 0


def test_two_job_runners_at_once_post_each_delivery_once(stack, loopback_allowed):
    """The job claims a delivery (a lease) before the call: a second runner does not post it again."""
    rt, client = stack
    acorn = admit(rt)
    second: list = []

    def run_second_runner() -> None:
        with rt.unit_of_work() as uow:
            from services.referrals import handlers
            second.append(handlers.deliver_webhooks(uow, NOW + timedelta(seconds=2)))
            uow.commit()

    with Receiver(during=run_second_runner) as system:
        assert _put(client, acorn, f"http://127.0.0.1:{system.port}/dps").status_code == 200
        published_referral(client)
        _run_jobs_at(rt, NOW + timedelta(seconds=1))
    assert len(system.received) == 1 and second == [0]
    assert str(uuid.UUID(_deliveries(client, acorn)[0]["delivery_id"]))
