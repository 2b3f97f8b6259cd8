"""Tokens from the council's identity provider (issue #21): verified with the keys its JWKS URL publishes,
served here by a local HTTP server in a thread.  Keys rotate (a new `kid` is fetched at once, a withdrawn one
is refused), the issuer, audience and expiry are checked (401), an outage of the key set is 503, and roles,
team and provider come from the claims the settings name."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.auth import ClaimNames, IdentityProviderKeys, TokenVerifier, mint_token
from shared.config import load_settings
from shared.errors import ServiceUnavailable, Unauthorized
from tests.shared.test_auth_tokens import SECRET, _client, _get

ISSUER = "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0"
AUDIENCE = "api://dps-council"


class IdentityProvider:
    """A JWKS endpoint whose keys a test changes; it counts the fetches and can be made to fail."""

    def __init__(self) -> None:
        self.keys: dict[str, object] = {}  # kid -> private key
        self.fetches = 0
        self.down = False
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                provider.fetches += 1
                if provider.down:
                    self.send_error(503)
                    return
                body = json.dumps(provider.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/discovery/v2.0/keys"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_key(self, kid: str, kind: str = "RSA") -> None:
        self.keys[kid] = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "RSA"
                          else ec.generate_private_key(ec.SECP256R1()))

    def jwks(self) -> dict:
        keys = []
        for kid, private in self.keys.items():
            if isinstance(private, rsa.RSAPrivateKey):
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
            else:
                jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig"})
        return {"keys": keys}

    def token(self, kid: str, **changes) -> str:
        now = int(time.time())
        claims = {"sub": "entra-object-id", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now,
                  "exp": now + 3600, "roles": ["manager"], **changes}
        claims = {k: v for k, v in claims.items() if v is not None}
        private = self.keys[kid]
        algorithm = "RS256" if isinstance(private, rsa.RSAPrivateKey) else "ES256"
        return jwt.encode(claims, private, algorithm=algorithm, headers={"kid": kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def idp():
    provider = IdentityProvider()
    provider.add_key("key-1")
    yield provider
    provider.close()


def _verifier(idp: IdentityProvider, *, cooldown: float = 0, names: ClaimNames = ClaimNames(), **kwargs):
    return TokenVerifier(identity_provider=IdentityProviderKeys(idp.url, cooldown=cooldown), issuer=ISSUER,
                         audience=AUDIENCE, claims=names, **kwargs)


def test_a_token_signed_with_a_published_key_is_accepted_and_the_keys_are_kept(idp):
    verifier = _verifier(idp)
    assert verifier.verify(idp.token("key-1", sub="someone")).sub == "someone"
    assert verifier.verify(idp.token("key-1", sub="someone-else")).sub == "someone-else"
    assert idp.fetches == 1  # the key set is kept, not fetched per token


def test_an_es256_key_is_accepted_too(idp):
    idp.add_key("ec-1", "EC")
    assert _verifier(idp).verify(idp.token("ec-1")).roles == {"manager"}


def test_a_new_key_is_fetched_when_a_token_names_it_and_a_withdrawn_one_is_refused(idp):
    verifier = _verifier(idp)
    old = idp.token("key-1")
    assert verifier.verify(old).sub == "entra-object-id"
    idp.add_key("key-2")  # the provider rotates: publishes its new key ...
    del idp.keys["key-1"]  # ... and withdraws the old one
    assert verifier.verify(idp.token("key-2")).roles == {"manager"}  # unknown kid: fetched again at once
    assert idp.fetches == 2
    with pytest.raises(Unauthorized, match="does not publish"):
        verifier.verify(old)  # remembered no longer: the key set changed


def _signed_by_withdrawn_key(idp: IdentityProvider) -> str:
    now = int(time.time())
    withdrawn = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 60,
                       "roles": ["manager"]}, withdrawn, algorithm="RS256", headers={"kid": "key-1"})


def test_unknown_key_ids_fetch_the_set_at_most_once_per_cooldown(idp):
    verifier = _verifier(idp, cooldown=60)
    verifier.verify(idp.token("key-1"))
    for n in range(5):
        with pytest.raises(Unauthorized):
            made_up = jwt.encode({"sub": "x"}, idp.keys["key-1"], algorithm="RS256", headers={"kid": f"made-up-{n}"})
            verifier.verify(made_up)
    assert idp.fetches <= 2


def test_a_key_signed_by_someone_else_with_a_published_kid_is_401(idp):
    with pytest.raises(Unauthorized, match="Signature verification failed"):
        _verifier(idp).verify(_signed_by_withdrawn_key(idp))


@pytest.mark.parametrize("changes, reason", [
    ({"iss": "https://login.elsewhere.example/v2.0"}, "issuer"),
    ({"iss": None}, "iss"),
    ({"aud": "api://another-council"}, "(?i)audience"),
    ({"aud": None}, "aud"),
    ({"exp": int(time.time()) - 10, "iat": int(time.time()) - 600}, "expired"),
], ids=["another issuer", "no issuer", "another audience", "no audience", "expired"])
def test_a_token_of_another_issuer_or_audience_or_expired_is_401(idp, changes, reason):
    with pytest.raises(Unauthorized, match=reason):
        _verifier(idp).verify(idp.token("key-1", **changes))


def test_only_allowed_public_key_algorithms_are_accepted(idp):
    verifier = _verifier(idp, algorithms=("RS256",))
    idp.add_key("ec-1", "EC")
    with pytest.raises(Unauthorized):
        verifier.verify(idp.token("ec-1"))  # ES256 not allowed here
    # an HMAC token naming a published key id, "signed" with the public key's text: never verified with it
    public_pem = idp.keys["key-1"].public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    forged = _hs256({"alg": "HS256", "typ": "JWT", "kid": "key-1"}, {
        "sub": "x", "iss": ISSUER, "aud": AUDIENCE, "roles": ["manager"], "iat": now, "exp": now + 60}, public_pem)
    with pytest.raises(Unauthorized):
        verifier.verify(forged)
    with pytest.raises(ValueError, match="HS"):
        _verifier(idp, algorithms=("RS256", "HS256"))


def _hs256(header: dict, claims: dict, secret: bytes) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{part(json.dumps(header).encode())}.{part(json.dumps(claims).encode())}"
    return f"{signing_input}.{part(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def test_an_unsigned_token_naming_a_published_key_is_401(idp):
    unsigned = jwt.encode({"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "roles": ["manager"]}, None,
                          algorithm="none", headers={"kid": "key-1"})
    with pytest.raises(Unauthorized):
        _verifier(idp).verify(unsigned)


# --- outage: 503, not 500, and not 401 -----------------------------------------------------------------

def test_when_the_keys_cannot_be_fetched_the_request_is_503(idp):
    idp.down = True
    with pytest.raises(ServiceUnavailable, match="identity provider"):
        _verifier(idp).verify(idp.token("key-1"))


def test_an_unreachable_jwks_url_is_503(idp):
    idp.close()
    with pytest.raises(ServiceUnavailable):
        _verifier(idp).verify(idp.token("key-1"))


# --- claims ----------------------------------------------------------------------------------------------

ENTRA = ClaimNames(roles="roles", team="extn.dpsTeam", provider_id="extn.dpsProvider",
                   role_map={"DPS.Officer": "officer", "DPS.Manager": "manager", "DPS.Provider": "provider"})


def test_roles_team_and_provider_come_from_the_configured_claims_and_role_names(idp):
    verifier = _verifier(idp, names=ENTRA)
    officer = verifier.verify(idp.token("key-1", roles=["DPS.Officer", "Some.Other.App.Role"],
                                        **{"extn.dpsTeam": "send"}))
    assert (officer.roles, officer.team) == ({"officer"}, "send")
    provider_id = uuid.uuid4()
    provider = verifier.verify(idp.token("key-1", roles=["DPS.Provider"], **{"extn.dpsProvider": str(provider_id)}))
    assert (provider.roles, provider.provider_id) == ({"provider"}, provider_id)
    with pytest.raises(Unauthorized, match="DPS_JWT_ROLE_MAP"):
        verifier.verify(idp.token("key-1", roles=["Some.Other.App.Role"]))  # none of ours
    with pytest.raises(Unauthorized, match="extn.dpsTeam"):
        verifier.verify(idp.token("key-1", roles=["DPS.Officer"]))  # an officer without a team


def test_a_claim_may_be_a_dotted_path_into_nested_claims(idp):
    names = ClaimNames(roles="realm_access.roles", team="dps.team")
    principal = _verifier(idp, names=names).verify(
        idp.token("key-1", roles=None, realm_access={"roles": ["officer"]}, dps={"team": "send"}))
    assert (principal.roles, principal.team) == ({"officer"}, "send")


def test_our_own_tokens_keep_our_claim_names_beside_the_identity_providers(idp, tmp_path):
    """A deployment may accept both: `dps token`'s (no kid, the static secret) and the provider's."""
    verifier = _verifier(idp, names=ENTRA, secret=SECRET)
    ours = mint_token(roles=["officer"], team="send", secret=SECRET, issuer=ISSUER, audience=AUDIENCE)
    assert verifier.verify(ours).roles == {"officer"}
    assert verifier.verify(idp.token("key-1", roles=["DPS.Manager"])).roles == {"manager"}


# --- through the web app, from the settings ------------------------------------------------------------

def _settings(idp, **changes):
    return dict(jwt_jwks_url=idp.url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_role_map=dict(ENTRA.role_map),
                **changes)


def test_the_web_app_answers_200_401_and_503(idp, tmp_path):
    client = _client(tmp_path, **_settings(idp))
    assert _get(client, idp.token("key-1", roles=["DPS.Manager"])).status_code == 200
    refused = _get(client, idp.token("key-1", roles=["DPS.Manager"], aud="api://elsewhere"))
    assert refused.status_code == 401 and refused.json["message"].startswith("invalid token")
    idp.add_key("key-2")
    idp.down = True
    outage = _get(client, idp.token("key-2", roles=["DPS.Manager"]))
    assert outage.status_code == 503, outage.json
    assert "identity provider" in outage.json["message"]


def test_the_settings_come_from_the_environment(monkeypatch, idp):
    monkeypatch.setenv("DPS_JWT_JWKS_URL", idp.url)
    monkeypatch.setenv("DPS_JWT_ISSUER", ISSUER)
    monkeypatch.setenv("DPS_JWT_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("DPS_JWT_ROLE_MAP", "DPS.Officer=officer, DPS.Manager=manager")
    monkeypatch.setenv("DPS_JWT_TEAM_CLAIM", "extn.dpsTeam")
    settings = load_settings("referrals")
    assert (settings.jwt_jwks_url, settings.jwt_jwks_lifetime, settings.jwt_algorithms) == (
        idp.url, 3600, ("RS256", "ES256"))
    assert settings.jwt_role_map == {"DPS.Officer": "officer", "DPS.Manager": "manager"}
    assert ClaimNames.of(settings).team == "extn.dpsTeam"
    assert TokenVerifier.of(replace(settings, jwt_secret=None, jwt_public_key=None)).identity_provider is not None


UNUSABLE = {"DPS_JWT_ALGORITHMS": ["RS256,HS256", "none"], "DPS_JWT_ROLE_MAP": ["DPS.Wizard=wizard"],
            "DPS_JWT_AUDIENCE": [""], "DPS_JWT_JWKS_LIFETIME": ["0"]}


@pytest.mark.parametrize("variable, value", [(name, value) for name, values in UNUSABLE.items() for value in values])
def test_a_setting_the_service_cannot_use_stops_it_naming_the_setting(monkeypatch, idp, variable, value):
    monkeypatch.setenv("DPS_JWT_JWKS_URL", idp.url)
    monkeypatch.setenv("DPS_JWT_ISSUER", ISSUER)
    monkeypatch.setenv("DPS_JWT_AUDIENCE", AUDIENCE)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        load_settings("referrals")


def test_production_needs_https_for_the_jwks_url(monkeypatch, idp):
    monkeypatch.setenv("DPS_ENVIRONMENT", "production")
    monkeypatch.setenv("DPS_JWT_JWKS_URL", idp.url)
    monkeypatch.setenv("DPS_JWT_ISSUER", ISSUER)
    monkeypatch.setenv("DPS_JWT_AUDIENCE", AUDIENCE)
    with pytest.raises(ValueError, match="https"):
        load_settings("referrals")
