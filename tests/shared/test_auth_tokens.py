"""Authentication and roles: 401 for no, expired, forged or `alg: none`
tokens and missing claims; 403 for a valid token without the role."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.auth import mint_token, public, requires
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
                       jwt_secret=SECRET, **settings_overrides)
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
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    client = _client(tmp_path, jwt_public_key=public_pem)
    assert _get(client, mint_token(roles=["manager"], private_key=private_pem)).status_code == 200
    # with RS256 configured, an HS256 token is refused whatever it was signed with
    assert _get(client, mint_token(roles=["manager"], secret=SECRET)).status_code == 401


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
