"""Where a webhook may be sent (issue 13, defect 4): the rule, address by address.

Only https to hosts that resolve to public internet addresses; an operator's
allow-listed host may resolve anywhere (still https); development may allow
http and loopback.  IPv4 carried in IPv6 is judged by the IPv4 address."""

from __future__ import annotations

import http.client
import socket

import pytest

from services.referrals import webhooks
from services.referrals.domain.webhook_addresses import WebhookRule, address_kind
from shared.errors import InvalidInput

ADDRESSES = [
    # public
    ("93.184.216.34", None), ("8.8.8.8", None), ("1.1.1.1", None), ("2606:2800:220:1:248:1893:25c8:1946", None),
    ("2001:4860:4860::8888", None), ("::ffff:8.8.8.8", None), ("64:ff9b::808:808", None),
    # loopback
    ("127.0.0.1", "loopback"), ("127.255.255.254", "loopback"), ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:7f00:1", "loopback"), ("64:ff9b::7f00:1", "loopback"),
    ("2002:7f00:1::", "loopback"),
    # private (RFC 1918), also inside IPv6
    ("10.0.0.1", "private"), ("10.255.255.255", "private"), ("172.16.0.1", "private"), ("172.31.255.254", "private"),
    ("192.168.0.1", "private"), ("::ffff:10.1.2.3", "private"), ("::ffff:192.168.1.1", "private"),
    ("64:ff9b::a00:1", "private"), ("2002:c0a8:101::", "private"),
    # link-local, including the cloud metadata address
    ("169.254.169.254", "link-local"), ("169.254.0.1", "link-local"), ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"), ("::ffff:169.254.169.254", "link-local"),
    # unique-local and site-local IPv6
    ("fc00::1", "unique-local"), ("fd12:3456:789a::1", "unique-local"), ("fec0::1", "site-local"),
    # multicast, broadcast, unspecified
    ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"), ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"), ("255.255.255.255", "broadcast"), ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    # shared (carrier-grade NAT), reserved, documentation, benchmarking, this-network
    ("100.64.0.1", "shared (carrier-grade NAT)"), ("100.127.255.254", "shared (carrier-grade NAT)"),
    ("240.0.0.1", "reserved"), ("192.0.2.10", "reserved"), ("198.51.100.7", "reserved"),
    ("203.0.113.9", "reserved"), ("198.18.0.1", "reserved"), ("0.1.2.3", "reserved"), ("192.0.0.8", "reserved"),
    ("2001:db8::1", "reserved"), ("2001::1", "reserved"), ("100::1", "reserved"),
    # not an address at all
    ("example.org", "invalid"), ("", "invalid"), ("999.1.1.1", "invalid"),
]


@pytest.mark.parametrize("address, kind", ADDRESSES)
def test_each_address_is_public_or_named_for_what_it_is(address, kind):
    assert address_kind(address) == kind


def _connect(rule: WebhookRule, url: str, addresses: list[str]) -> str:
    return rule.address_to_connect(rule.target(url), addresses)


def test_a_public_https_host_is_connected_to_at_the_address_checked():
    assert _connect(WebhookRule(), "https://acorn.example/dps", ["93.184.216.34", "2606:2800:220::1"]) \
        == "93.184.216.34"


@pytest.mark.parametrize("url, addresses", [
    ("https://acorn.example/", ["93.184.216.34", "10.0.0.1"]),  # one internal answer refuses the lot
    ("https://acorn.example/", ["::ffff:127.0.0.1"]),
    ("https://acorn.example/", []),  # does not resolve
    ("https://127.0.0.1/", ["127.0.0.1"]),
    ("http://acorn.example/", ["93.184.216.34"]),  # not TLS
    ("ftp://acorn.example/", ["93.184.216.34"]),
    ("https://user:secret@acorn.example/", ["93.184.216.34"]),
    ("https://acorn.example:99999/", ["93.184.216.34"]),
    ("https:///nohost", ["93.184.216.34"]),
    ("https://[::1/", ["93.184.216.34"]), ("https://[zzz]/", ["93.184.216.34"]),
    ("https://a b.example/", ["93.184.216.34"]), ("https://acorn.example/p?q=1\r\nX-Injected: 1", ["93.184.216.34"]),
    ("https://ex\x00ample.org/", ["93.184.216.34"]), ("https://\ud800.example/", ["93.184.216.34"]),
    ("https://a..b.example/", ["93.184.216.34"]), ("https://-a.example/", ["93.184.216.34"]),
    ("https://a_b.example/", ["93.184.216.34"]), ("https://acorn.example:0/", ["93.184.216.34"]),
    ("https://" + "a" * 64 + ".example/", ["93.184.216.34"]),
])
def test_anything_else_is_refused_naming_url(url, addresses):
    with pytest.raises(InvalidInput) as refused:
        _connect(WebhookRule(), url, addresses)
    assert refused.value.field == "url"


def test_an_address_literal_is_refused_saying_what_kind_it_is():
    with pytest.raises(InvalidInput, match="169.254.169.254 is a link-local address"):
        _connect(WebhookRule(), "https://169.254.169.254/latest/meta-data/", ["169.254.169.254"])


def test_an_allow_listed_host_may_resolve_to_a_private_address_over_https_only():
    rule = WebhookRule.of([" HSCN.Acorn.example ", ""])
    assert _connect(rule, "https://hscn.acorn.example/dps", ["10.20.30.40"]) == "10.20.30.40"
    with pytest.raises(InvalidInput):
        _connect(rule, "http://hscn.acorn.example/dps", ["10.20.30.40"])
    with pytest.raises(InvalidInput):  # the name is allow-listed, not whatever else resolves there
        _connect(rule, "https://other.example/dps", ["10.20.30.40"])


def test_development_allows_loopback_and_http_to_loopback_only():
    rule = WebhookRule.of(allow_loopback=True)
    assert _connect(rule, "http://localhost:8080/hook", ["::1", "127.0.0.1"]) == "::1"
    assert _connect(rule, "https://localhost:8443/hook", ["127.0.0.1"]) == "127.0.0.1"
    for url, addresses in [("http://acorn.example/", ["93.184.216.34"]), ("https://lan.example/", ["10.0.0.2"]),
                           ("http://mixed.example/", ["127.0.0.1", "10.0.0.2"])]:
        with pytest.raises(InvalidInput):
            _connect(rule, url, addresses)


def test_the_target_keeps_the_name_for_host_and_tls_and_the_path_and_query():
    target = WebhookRule().target("https://Hooks.Acorn.example:8443/dps/in?key=1")
    assert (target.host, target.port, target.path) == ("hooks.acorn.example", 8443, "/dps/in?key=1")
    assert WebhookRule().target("https://acorn.example").port == 443


def test_the_https_connection_is_pinned_to_the_checked_address_with_the_name_as_server_name(monkeypatch):
    made = {}

    def create_connection(address, timeout=None, source_address=None):
        made["address"] = address
        raise ConnectionRefusedError("nothing listens")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    target = WebhookRule().target("https://hooks.acorn.example/dps")
    connection = webhooks._pinned(target, "93.184.216.34")
    assert isinstance(connection, http.client.HTTPSConnection) and connection.host == "hooks.acorn.example"
    answer = webhooks.post(target, "93.184.216.34", b"{}", {})
    assert made["address"] == ("93.184.216.34", 443)
    assert answer == webhooks.Answer(None, webhooks.NO_ANSWER)  # never the exception's text


def test_a_name_that_resolves_too_slowly_does_not_resolve(monkeypatch):
    import threading

    release = threading.Event()

    def slow_getaddrinfo(*args, **kwargs):
        release.wait(5)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))]

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    monkeypatch.setattr(webhooks, "RESOLVE_TIMEOUT_SECONDS", 0.2)
    try:
        assert webhooks.resolve("slow.example", 443) == []
    finally:
        release.set()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))])
    assert webhooks.resolve("acorn.example", 443) == ["93.184.216.34"]
