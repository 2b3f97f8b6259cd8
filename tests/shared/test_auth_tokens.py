"""Authentication and roles: 401 for no, expired, forged or `alg: none`
tokens and missing claims; 403 for a valid token without the role."""

from __future__ import annotations

import base64
import hmac
import json
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.auth import mint_token, new_key_pair, public, requires
from shared.config import load_settings
from shared.db import new_metadata
from shared.service import Runtime, ServiceDefinition
from shared.web import create_app

SECRET = "unit-test-secret-at-least-32-bytes-long"


def _blueprint() -> Blueprint:
    blp = Blueprint("probe", __name__, url_prefix="/probe")

    @blp.route("/officers")
    class Officers(MethodView):
        @blp.response(200)
        @requires("officer", "manager")
        def get(self):
            from shared.auth import current_principal

            return {"sub": current_principal().sub}

    @blp.route("/open")
    class Open(MethodView):
        @blp.response(200)
        @public
        def get(self):
            return {"ok": True}

    return blp


def _client(tmp_path: Path, **settings_overrides):
    definition = ServiceDefinition(name="referrals", title="probe", metadata=new_metadata(),
                                   versions=tmp_path, blueprints=lambda: [_blueprint()])
    settings = replace(load_settings("referrals"), database_url=f"sqlite:///{tmp_path}/db.sqlite3",
                       **{"jwt_secret": SECRET, **settings_overrides})
    app = create_app(definition, settings, Runtime(definition, settings))
    return app.test_client()


def _get(client, token=None, header=None):
    headers = {"Authorization": header or f"Bearer {token}"} if (token or header) else {}
    return client.get("/probe/officers", headers=headers)


@pytest.fixture
def client(tmp_path):
    return _client(tmp_path)


def test_officer_token_is_accepted(client):
    token = mint_token(roles=["officer"], team="send", secret=SECRET, sub="kathryn")
    response = _get(client, token)
    assert response.status_code == 200 and response.json == {"sub": "kathryn"}


def test_no_token_is_401(client):
    response = _get(client)
    assert response.status_code == 401 and response.json["message"] == "missing bearer token"


def test_expired_token_is_401(client):
    token = mint_token(roles=["officer"], team="send", secret=SECRET, ttl=timedelta(seconds=-10))
    response = _get(client, token)
    assert response.status_code == 401 and "expired" in response.json["message"]


def test_a_token_remembered_from_an_earlier_request_still_expires_on_time(monkeypatch):
    import time

    from shared import auth

    verifier = auth.TokenVerifier(secret=SECRET)
    token = mint_token(roles=["officer"], team="send", secret=SECRET, ttl=timedelta(seconds=1))
    assert verifier.verify(token).sub == "dev-user"
    with monkeypatch.context() as patched:
        patched.setattr(auth.jwt, "decode", lambda *a, **k: pytest.fail("verified again"))
        assert verifier.verify(token).team == "send"  # remembered: not verified again
    time.sleep(1.2)
    with pytest.raises(auth.Unauthorized, match="expired"):
        verifier.verify(token)


def test_a_forged_token_is_refused_even_beside_a_remembered_one():
    from shared import auth

    verifier = auth.TokenVerifier(secret=SECRET)
    token = mint_token(roles=["officer"], team="send", secret=SECRET)
    verifier.verify(token)
    header, claims, signature = token.split(".")
    forged_claims = base64.urlsafe_b64encode(json.dumps(
        {**json.loads(base64.urlsafe_b64decode(claims + "==")), "roles": ["manager"]}).encode()).rstrip(b"=")
    with pytest.raises(auth.Unauthorized):
        verifier.verify(f"{header}.{forged_claims.decode()}.{signature}")


def test_token_signed_with_another_secret_is_401(client):
    token = mint_token(roles=["manager"], secret="someone-elses-secret-also-32-bytes-long")
    assert _get(client, token).status_code == 401


def test_alg_none_token_is_401(client):
    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': 'x', 'roles': ['manager'], 'exp': 9999999999})}."
    assert _get(client, unsigned).status_code == 401


@pytest.mark.parametrize("claims", [
    {"roles": ["manager"]},                                  # no sub
    {"sub": "x"},                                            # no roles
    {"sub": "x", "roles": ["wizard"]},                       # unknown role
    {"sub": "x", "roles": ["officer"]},                      # officer without a team
    {"sub": "x", "roles": ["provider"]},                     # provider without provider_id
    {"sub": "x", "roles": ["provider"], "provider_id": "not-a-uuid"},
])
def test_token_missing_or_bad_claims_is_401(client, claims):
    token = jwt.encode({"exp": 9999999999, **claims}, SECRET, algorithm="HS256")
    assert _get(client, token).status_code == 401


def test_token_without_exp_is_401(client):
    token = jwt.encode({"sub": "x", "roles": ["manager"]}, SECRET, algorithm="HS256")
    assert _get(client, token).status_code == 401


def test_valid_token_without_the_role_is_403(client):
    token = mint_token(roles=["provider"], provider_id=uuid.uuid4(), secret=SECRET)
    response = _get(client, token)
    assert response.status_code == 403 and "officer or manager" in response.json["message"]


def test_public_endpoint_needs_no_token(client):
    assert client.get("/probe/open").status_code == 200


def test_roles_are_in_the_openapi_document(client):
    spec = client.get("/openapi.json").json
    assert spec["paths"]["/probe/officers"]["get"]["x-roles"] == ["officer", "manager"]
    assert spec["paths"]["/probe/officers"]["get"]["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/probe/open"]["get"]["x-roles"] == ["public"]


def test_rs256_tokens_with_a_public_key(tmp_path):
    private_pem, public_pem = new_key_pair()
    client = _client(tmp_path, jwt_public_key=public_pem, jwt_secret=None)
    assert _get(client, mint_token(roles=["manager"], private_key=private_pem)).status_code == 200
    # with RS256 alone configured, an HS256 token is refused whatever it was signed with
    assert _get(client, mint_token(roles=["manager"], secret=SECRET)).status_code == 401
    # and so is an HS256 token whose "secret" is the public key itself (algorithm confusion)
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps({"sub": "x", "roles": ["manager"], "iat": int(time.time()),
                                                "exp": int(time.time()) + 60}).encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(hmac.new(public_pem.encode(), header + b"." + body, "sha256").digest())
    assert _get(client, (header + b"." + body + b"." + signature.rstrip(b"=")).decode()).status_code == 401


def test_the_portals_public_key_and_the_development_secret_are_accepted_together(tmp_path):
    """`make run`: the portal signs RS256 tokens and `dps token` still signs with the development secret."""
    private_pem, public_pem = new_key_pair()
    client = _client(tmp_path, jwt_public_key=public_pem)  # and the secret, SECRET
    assert _get(client, mint_token(roles=["manager"], private_key=private_pem)).status_code == 200
    assert _get(client, mint_token(roles=["manager"], secret=SECRET)).status_code == 200
    assert _get(client, mint_token(roles=["manager"], secret="another-secret-of-at-least-32-bytes!")).status_code \
        == 401
    other, _ = new_key_pair()
    assert _get(client, mint_token(roles=["manager"], private_key=other)).status_code == 401


def test_roles_are_checked_before_the_body_is_validated(tmp_path):
    from marshmallow import Schema, fields

    class Body(Schema):
        name = fields.String(required=True)

    blp = Blueprint("probe2", __name__, url_prefix="/probe2")

    @blp.route("/things")
    class Things(MethodView):
        @blp.arguments(Body)
        @blp.response(201)
        @requires("manager")
        def post(self, body):
            return body

    definition = ServiceDefinition(name="referrals", title="probe", metadata=new_metadata(), versions=tmp_path,
                                   blueprints=lambda: [blp])
    settings = replace(load_settings("referrals"), database_url=f"sqlite:///{tmp_path}/db.sqlite3", jwt_secret=SECRET)
    client = create_app(definition, settings, Runtime(definition, settings)).test_client()
    assert client.post("/probe2/things", json={}).status_code == 401
    officer = {"Authorization": "Bearer " + mint_token(roles=["officer"], team="send", secret=SECRET)}
    assert client.post("/probe2/things", json={}, headers=officer).status_code == 403
    manager = {"Authorization": "Bearer " + mint_token(roles=["manager"], secret=SECRET)}
    assert client.post("/probe2/things", json={}, headers=manager).status_code == 422
    assert client.post("/probe2/things", json={"name": "x"}, headers=manager).status_code == 201


def test_during_a_rotation_tokens_signed_with_the_previous_secret_still_work(tmp_path):
    previous = "the-previous-secret-also-at-least-32-bytes"
    client = _client(tmp_path, jwt_previous_secret=previous)
    assert _get(client, mint_token(roles=["manager"], secret=previous)).status_code == 200
    assert _get(client, mint_token(roles=["manager"], secret=SECRET)).status_code == 200
    assert _get(client, mint_token(roles=["manager"], secret="a-third-secret-that-is-32-bytes-long")).status_code == 401


# --- tokens bound to this deployment (issue #13, defect 9) ----------------------------------------------

def _claims(**changes) -> dict:
    import time

    now = int(time.time())
    claims = {"sub": "someone", "roles": ["manager"], "iat": now, "exp": now + 3600,
              "iss": "dps-test-council", "aud": "dps-test-council"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture
def bound(tmp_path):
    """A service that accepts only tokens of the issuer and audience "dps-test-council"."""
    return _client(tmp_path, jwt_issuer="dps-test-council", jwt_audience="dps-test-council")


def test_a_token_of_this_deployment_is_accepted(bound):
    assert _get(bound, jwt.encode(_claims(), SECRET, algorithm="HS256")).status_code == 200
    token = mint_token(roles=["manager"], secret=SECRET, issuer="dps-test-council", audience="dps-test-council")
    assert _get(bound, token).status_code == 200
    several = _claims(aud=["another-api", "dps-test-council"])
    assert _get(bound, jwt.encode(several, SECRET, algorithm="HS256")).status_code == 200


@pytest.mark.parametrize("changes", [{"iss": "https://login.elsewhere.example"}, {"iss": None},
                                     {"aud": "another-council"}, {"aud": None}],
                         ids=["another issuer", "no issuer", "another audience", "no audience"])
def test_a_token_of_another_issuer_or_audience_is_401(bound, changes):
    response = _get(bound, jwt.encode(_claims(**changes), SECRET, algorithm="HS256"))
    assert response.status_code == 401, response.json
    assert response.json["message"].startswith("invalid token"), response.json


@pytest.mark.parametrize("changes", [{"exp": 253402300799}, {"iat": None}, {"exp": None},
                                     {"exp": _claims()["iat"] + 13 * 3600}],
                         ids=["exp in the year 9999", "no iat", "no exp", "13 hours"])
def test_a_token_living_longer_than_the_maximum_or_without_iat_is_401(client, changes):
    claims = {k: v for k, v in _claims(**changes).items() if k not in ("iss", "aud")}
    response = _get(client, jwt.encode(claims, SECRET, algorithm="HS256"))
    assert response.status_code == 401, response.json


def test_the_maximum_lifetime_is_a_setting(tmp_path):
    client = _client(tmp_path, jwt_max_lifetime=3600)
    assert _get(client, mint_token(roles=["manager"], secret=SECRET, ttl=timedelta(minutes=59))).status_code == 200
    assert _get(client, mint_token(roles=["manager"], secret=SECRET, ttl=timedelta(hours=2))).status_code == 401


def test_without_settings_issuer_and_audience_are_not_required(client):
    """Checked when set: a deployment that sets neither accepts tokens with or without them."""
    assert _get(client, mint_token(roles=["manager"], secret=SECRET)).status_code == 200
    assert _get(client, jwt.encode(_claims(), SECRET, algorithm="HS256")).status_code == 200


def test_the_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DPS_JWT_ISSUER", "dps-x")
    monkeypatch.setenv("DPS_JWT_AUDIENCE", "dps-y")
    monkeypatch.setenv("DPS_JWT_MAX_LIFETIME", "600")
    settings = load_settings("referrals")
    assert (settings.jwt_issuer, settings.jwt_audience, settings.jwt_max_lifetime) == ("dps-x", "dps-y", 600)
    monkeypatch.delenv("DPS_JWT_MAX_LIFETIME")
    assert load_settings("referrals").jwt_max_lifetime == 12 * 3600


def test_dps_token_mints_for_the_deployment_make_run_sets(monkeypatch, capsys):
    """`make run` (scripts/run.sh) sets DPS_JWT_ISSUER and DPS_JWT_AUDIENCE; `dps token` mints for them,
    and without them for the development deployment run.sh defaults to."""
    import re

    from shared import cli
    from shared.config import DEVELOPMENT_JWT_AUDIENCE, DEVELOPMENT_JWT_ISSUER

    script = (Path(__file__).resolve().parents[2] / "scripts" / "run.sh").read_text()
    assert re.search(r'export DPS_JWT_ISSUER="\$\{DPS_JWT_ISSUER:-' + DEVELOPMENT_JWT_ISSUER + '}"', script)
    assert re.search(r'export DPS_JWT_AUDIENCE="\$\{DPS_JWT_AUDIENCE:-' + DEVELOPMENT_JWT_AUDIENCE + '}"', script)
    monkeypatch.delenv("DPS_JWT_ISSUER", raising=False)
    monkeypatch.delenv("DPS_JWT_AUDIENCE", raising=False)
    monkeypatch.setenv("DPS_JWT_SECRET", SECRET)
    cli.main(["token", "--role", "manager"])
    claims = jwt.decode(capsys.readouterr().out.strip(), SECRET, algorithms=["HS256"],
                        audience=DEVELOPMENT_JWT_AUDIENCE)
    assert claims["iss"] == DEVELOPMENT_JWT_ISSUER and claims["exp"] - claims["iat"] <= 12 * 3600
