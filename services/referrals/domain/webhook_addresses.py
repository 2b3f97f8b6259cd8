"""Where a webhook may be sent: only to the public internet, over TLS.

A provider chooses its own webhook URL, so the URL is untrusted: it must not
let a provider make the council's servers post to (or probe) the council's own
network.  Personal data leaves only over TLS to addresses on the public
internet (DOMAIN: children's data).

- The URL is `https`, has a host, no user name or password, a valid port.
- Every address the host resolves to is public: not loopback, private
  (RFC 1918), shared (carrier-grade NAT), link-local, unique-local,
  site-local, multicast, reserved, documentation, broadcast or unspecified.
  IPv4 inside IPv6 (IPv4-mapped, NAT64, 6to4) is judged by the IPv4 address
  it carries.  One internal answer among public ones refuses the lot.
- A host the operator allow-lists (by exact name) may resolve to any address,
  still over `https`: a provider's system reached over a private link.
- Development only: `allow_loopback` also accepts loopback addresses, and
  `http` to them (a receiver on the developer's own machine).

The rule is checked when the URL is registered and again at every delivery,
after the name is resolved; the delivery connects to the address checked here
(`WebhookRule.address_to_connect`), never to a second lookup of the name.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from shared.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_BROADCAST = ipaddress.ip_address("255.255.255.255")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
# Not on the public internet (IANA special-purpose registries), listed here as well as Python's own
# tables, which differ between Python versions: this-network, IETF protocol assignments, documentation,
# benchmarking, reserved; IPv6 discard-only, IETF protocol assignments (Teredo, ORCHID...), documentation.
_SPECIAL = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "240.0.0.0/4", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16"))


def address_kind(address: str | IPAddress) -> str | None:
    """None for an address on the public internet; otherwise what kind of address it is
    ("loopback", "private", "link-local", ...).  Anything that is not an address is "invalid"."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    except ValueError:
        return "invalid"
    if isinstance(ip, ipaddress.IPv6Address):
        carried = _carried_ipv4(ip)
        if carried is not None:
            return address_kind(carried)
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_multicast:
        return "multicast"
    if ip.is_link_local:
        return "link-local"
    if ip == _BROADCAST:
        return "broadcast"
    if isinstance(ip, ipaddress.IPv4Address):
        if any(ip in net for net in _RFC1918):
            return "private"
        if ip in _SHARED:
            return "shared (carrier-grade NAT)"
    else:
        if ip in _UNIQUE_LOCAL:
            return "unique-local"
        if ip.is_site_local:
            return "site-local"
    if ip.is_reserved or any(ip.version == net.version and ip in net for net in _SPECIAL):
        return "reserved"
    if ip.is_private or not ip.is_global:
        return "reserved"  # documentation, benchmarking, protocol assignments, Teredo...
    return None


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


@dataclass(frozen=True)
class WebhookTarget:
    """A webhook URL taken apart: what to resolve, and what to send."""

    url: str
    scheme: str
    host: str  # lower case, IDNA-encoded: what is resolved, sent as Host and as the TLS server name
    port: int
    path: str  # path and query, as sent in the request line


@dataclass(frozen=True)
class WebhookRule:
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)  # lower-case host names
    allow_loopback: bool = False  # development only

    @classmethod
    def of(cls, allowed_hosts: Iterable[str] = (), allow_loopback: bool = False) -> WebhookRule:
        return cls(frozenset(h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip()), allow_loopback)

    def target(self, url: str) -> WebhookTarget:
        """The URL's form: https (or http, in development), a host, no credentials, a valid port."""
        url = (url or "").strip()
        if any(ord(c) < 33 or ord(c) == 127 for c in url):
            raise InvalidInput("the webhook URL must not contain spaces or control characters", field="url")
        try:
            parts = urlsplit(url)
            parts.hostname  # noqa: B018 - urlsplit checks a bracketed address only when asked
        except ValueError:
            raise InvalidInput("the webhook URL is not a valid URL", field="url") from None
        schemes = ("https", "http") if self.allow_loopback else ("https",)
        if parts.scheme not in schemes or not parts.hostname:
            raise InvalidInput("the webhook URL must be an https URL with a host name", field="url")
        if parts.username is not None or parts.password is not None:
            raise InvalidInput("the webhook URL must not carry a user name or password", field="url")
        try:
            port = parts.port
        except ValueError:
            raise InvalidInput("the webhook URL has an invalid port", field="url") from None
        try:
            host = parts.hostname.rstrip(".").encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise InvalidInput("the webhook URL's host name is not a valid host name", field="url") from None
        if not _is_literal(host) and not _HOST_NAME.fullmatch(host):
            raise InvalidInput("the webhook URL's host name is not a valid host name", field="url")
        if port == 0:
            raise InvalidInput("the webhook URL has an invalid port", field="url")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return WebhookTarget(url=url, scheme=parts.scheme, host=host,
                             port=port if port is not None else (443 if parts.scheme == "https" else 80), path=path)

    def address_to_connect(self, target: WebhookTarget, addresses: Sequence[str]) -> str:
        """The address to connect to, once every address the host resolved to is allowed;
        otherwise InvalidInput on `url` saying why."""
        literal = _is_literal(target.host)
        if not addresses:
            raise self._refused(target, literal, None)
        kinds = [address_kind(a) for a in addresses]
        if target.scheme == "http":  # development only: to this machine, nowhere else
            if all(kind == "loopback" for kind in kinds):
                return addresses[0]
            raise InvalidInput("the webhook URL must be https (http is allowed in development only, to "
                               "loopback addresses)", field="url")
        if target.host in self.allowed_hosts:
            if "invalid" in kinds:
                raise self._refused(target, literal, "invalid")
            return addresses[0]
        refused = next((k for k in kinds if k is not None and not (k == "loopback" and self.allow_loopback)),
                       None)
        if refused is not None:
            raise self._refused(target, literal, refused)
        return addresses[0]

    @staticmethod
    def _refused(target: WebhookTarget, literal: bool, kind: str | None) -> InvalidInput:
        if literal:
            return InvalidInput(f"the webhook address {target.host} is a {kind} address: webhooks go only to "
                                "public internet addresses", field="url")
        # The same answer whether the name resolves inside the council's network or not at all, so the
        # refusal is no oracle for which internal names exist.
        return InvalidInput(f"the webhook host {target.host} must resolve only to public internet addresses",
                            field="url")


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
