"""HTTP entry points for rectification and erasure of a child's data (services/referrals/erasure.py).

- `PATCH /v1/children/{child_ref}`: correct the child's details (officers of its team, the manager).
- `POST /v1/children/{child_ref}/erasure-requests`: record a request to erase them; `GET`: the requests
  (the manager).
- `POST /v1/children/{child_ref}/erasure-requests/{request_id}/decision`: the manager grants or refuses.
"""

from __future__ import annotations

from uuid import UUID

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from services.referrals import erasure
from services.referrals import schemas as s
from shared.auth import current_principal, requires
from shared.paging import LINK_DOC, Page, Paging

children = Blueprint("children", __name__, url_prefix="/v1",
                     description="A child's data: rectification and erasure (UK GDPR Articles 16 and 17)")


def _uow(read_only: bool = False):
    return current_app.extensions["dps"].unit_of_work(current_principal(), read_only=read_only)


@children.route("/children/<uuid:child_ref>")
class Child(MethodView):
    @children.arguments(s.ChildCorrectionIn)
    @children.response(200, s.ChildCorrectionOut)
    @requires("officer", "manager")
    def patch(self, changes, child_ref: UUID):
        """Correct the child's details on every referral of the child (audited: the fields, not the values)"""
        with _uow() as uow:
            changed = erasure.correct_child(uow, current_principal(), child_ref, changes)
        return {"child_ref": child_ref, "changed": list(changed)}


@children.route("/children/<uuid:child_ref>/erasure-requests")
class ErasureRequests(MethodView):
    @children.arguments(s.ErasureRequestIn)
    @children.response(201, s.ErasureRequestOut)
    @requires("officer", "manager")
    def post(self, body, child_ref: UUID):
        """Record a request to erase the child's data (the manager decides it)"""
        with _uow() as uow:
            return erasure.request_erasure(uow, current_principal(), child_ref, body["grounds"])

    @children.arguments(Paging, location="query")
    @children.response(200, s.ErasureRequestOut(many=True), headers=LINK_DOC)
    @requires("manager")
    def get(self, query, child_ref: UUID):
        """The erasure requests made for this child, oldest first"""
        page = Page.take(query)
        with _uow(read_only=True) as uow:
            return page.respond(page.window(erasure.erasure_requests(uow, current_principal(), child_ref)))


@children.route("/children/<uuid:child_ref>/erasure-requests/<uuid:request_id>/decision")
class ErasureDecision(MethodView):
    @children.arguments(s.ErasureDecisionIn)
    @children.response(200, s.ErasureRequestOut)
    @requires("manager")
    def post(self, body, child_ref: UUID, request_id: UUID):
        """Grant or refuse an erasure request, with the reason (409 naming the hold where a record must be kept)"""
        with _uow() as uow:
            return erasure.decide_erasure(uow, current_principal(), child_ref, request_id, **body)
