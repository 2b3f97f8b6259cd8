"""Providers' kinds of setting and identifiers; renewed self-declarations  (issue #16 item 2, issue #15 item 6)

Existing providers migrate as they were: a registered school stays a
registered school with its URN, its Ofsted grade becomes the outcome of its
last Ofsted inspection in words (date not recorded; "not yet inspected"
leaves no outcome); an unregistered setting becomes `unregistered`.  No
existing record is a further education college: the manager or the provider
changes the kind and adds a UKPRN where one is.  Applications keep their forms,
rewritten in the same shape.
"""
import sqlalchemy as sa
from alembic import op

import shared.db

revision, down_revision, branch_labels, depends_on = "0006", "0005", None, None

OUTCOMES = {"outstanding": "Outstanding", "good": "Good", "requires_improvement": "Requires improvement",
            "inadequate": "Inadequate"}
KINDS = {"registered_school": "registered_school", "unregistered_setting": "unregistered"}


def _registration(old: dict) -> dict:
    school = old.get("status") == "registered_school"
    grade = old.get("ofsted_grade")
    return {"setting_kind": KINDS.get(old.get("status"), "unregistered"), "urn": old.get("urn") if school else None,
            "ukprn": None, "inspectorate": "ofsted" if school else None, "last_inspection_date": None,
            "last_inspection_outcome": OUTCOMES.get(grade) if school else None}


def _old_registration(new: dict) -> dict:
    school = new.get("setting_kind") == "registered_school"
    grades = {words: grade for grade, words in OUTCOMES.items()}
    grade = grades.get(new.get("last_inspection_outcome"), "not_yet_inspected") if school else None
    return {"status": "registered_school" if school else "unregistered_setting",
            "urn": new.get("urn") if school else None, "ofsted_grade": grade}


def _move_kinds(kind_column: str, school: dict, others: dict, inspection: tuple) -> None:
    """Move each provider's kind (from `kind_column`: a school's value is
    registered_school either way) and its inspection's outcome between the old
    columns and the new; only a school keeps a URN."""
    names = ("registration_status", "urn", "ofsted_grade", "setting_kind", "inspectorate", "last_inspection_outcome")
    providers = sa.table("providers", *(sa.column(name, sa.String()) for name in names))
    is_school = providers.c[kind_column] == "registered_school"
    op.execute(providers.update().where(is_school).values(**school))
    op.execute(providers.update().where(~is_school).values(**others, urn=None))
    source, target, pairs = inspection
    for old, new in pairs:
        op.execute(providers.update().where(is_school, providers.c[source] == old).values({target: new}))


def _rewrite_forms(change) -> None:
    applications = sa.table("applications", sa.column("id", sa.Uuid()), sa.column("form", sa.JSON()))
    connection = op.get_bind()
    for row in connection.execute(sa.select(applications.c.id, applications.c.form)).all():
        form = dict(row.form)
        form["registration"] = change(form["registration"])
        connection.execute(applications.update().where(applications.c.id == row.id).values(form=form))


def upgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.add_column(sa.Column("setting_kind", sa.String(30), nullable=True))
        batch.add_column(sa.Column("ukprn", sa.String(8), nullable=True))
        batch.add_column(sa.Column("inspectorate", sa.String(10), nullable=True))
        batch.add_column(sa.Column("last_inspection_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("last_inspection_outcome", sa.String(200), nullable=True))
    _move_kinds("registration_status", {"setting_kind": "registered_school", "inspectorate": "ofsted"},
                {"setting_kind": "unregistered"}, ("ofsted_grade", "last_inspection_outcome", OUTCOMES.items()))
    with op.batch_alter_table("providers") as batch:
        batch.alter_column("setting_kind", existing_type=sa.String(30), nullable=False)
        batch.drop_column("registration_status")
        batch.drop_column("ofsted_grade")
    _rewrite_forms(_registration)

    op.create_table(
        "declaration_requests",
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("requested_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("answered_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exclusion_grounds_apply", sa.Boolean(), nullable=True),
        sa.Column("selection_criteria_met", sa.Boolean(), nullable=True),
        sa.Column("changes", sa.Text(), nullable=True),
        sa.Column("lapsed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"],
                                name=op.f("fk_declaration_requests_provider_id_providers")),
        sa.PrimaryKeyConstraint("provider_id", "position", name=op.f("pk_declaration_requests")),
    )


def downgrade() -> None:
    op.drop_table("declaration_requests")
    _rewrite_forms(_old_registration)
    with op.batch_alter_table("providers") as batch:
        batch.add_column(sa.Column("registration_status", sa.String(30), nullable=True))
        batch.add_column(sa.Column("ofsted_grade", sa.String(30), nullable=True))
    _move_kinds("setting_kind", {"registration_status": "registered_school", "ofsted_grade": "not_yet_inspected"},
                {"registration_status": "unregistered_setting"},
                ("last_inspection_outcome", "ofsted_grade", ((words, grade) for grade, words in OUTCOMES.items())))
    with op.batch_alter_table("providers") as batch:
        batch.alter_column("registration_status", existing_type=sa.String(30), nullable=False)
        for column in ("setting_kind", "ukprn", "inspectorate", "last_inspection_date", "last_inspection_outcome"):
            batch.drop_column(column)
