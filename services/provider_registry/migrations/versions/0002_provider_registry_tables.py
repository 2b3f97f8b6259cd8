"""provider_registry tables, and the DPS as the council set it up

The DPS starts on 1 April 2024 for seven years, decisions within 10 working
days (15 when extended), SLA version 1; each lot has the qualification
questions below until the manager changes them.  The data is written out here
rather than imported so that this migration stays as it was when it ran.
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

import shared.db

revision, down_revision, branch_labels, depends_on = "0002", "0001", None, None


def _pass_fail(id_, text):
    return {"kind": "pass_fail", "id": id_, "text": text, "pass_answer": True}


def _scored(id_, text, pass_mark=3):
    return {"kind": "scored", "id": id_, "text": text, "pass_mark": pass_mark, "min_score": 0, "max_score": 5}


_EVERY_LOT = [
    _pass_fail("enhanced_dbs", "Are enhanced DBS checks for every member of staff and volunteer recorded "
                               "on a single central record?"),
    _pass_fail("safeguarding_policy", "Do you have a safeguarding policy, reviewed in the last twelve months, "
                                      "and a designated safeguarding lead?"),
    _pass_fail("insurance", "Do you hold employer's liability and public liability insurance of at least "
                            "5 million pounds?"),
    _scored("experience", "Describe your experience of providing alternative provision for children who "
                          "cannot attend a mainstream school (scored 0 to 5; pass mark 3)."),
]

_LOTS = [
    (1, "Full-time education", [
        _scored("full_time_curriculum", "Describe your full-time curriculum, including English, maths and "
                                        "science, and the qualifications it leads to."),
    ]),
    (2, "Part-time education", [
        _scored("reintegration", "Describe how a part-time programme prepares a child to return to school "
                                 "or move on."),
    ]),
    (3, "Bespoke provision", [
        _scored("bespoke_planning", "Describe how you plan bespoke provision around a child's needs and risks "
                                    "and measure progress against its aims."),
    ]),
    (4, "Post-16 support and preparation for adulthood", [
        _scored("preparation_for_adulthood", "Describe how you support young people aged 16 to 25 towards "
                                             "further education, training or employment."),
    ]),
]


def _seed() -> None:
    dps = sa.table("dps", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("start", sa.Date),
                   sa.column("term_years", sa.Integer), sa.column("status", sa.String),
                   sa.column("sla_version", sa.String), sa.column("decision_working_days", sa.Integer),
                   sa.column("extended_decision_working_days", sa.Integer))
    lots = sa.table("lots", sa.column("number", sa.Integer), sa.column("name", sa.String),
                    sa.column("questions", sa.JSON))
    op.bulk_insert(dps, [{"id": 1, "name": "Alternative Provision Dynamic Purchasing System",
                          "start": date(2024, 4, 1), "term_years": 7, "status": "open", "sla_version": "1",
                          "decision_working_days": 10, "extended_decision_working_days": 15}])
    op.bulk_insert(lots, [{"number": number, "name": name, "questions": _EVERY_LOT + own}
                          for number, name, own in _LOTS])


def upgrade() -> None:
    op.create_table('applications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_name', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('form', sa.JSON(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('marks', sa.JSON(), nullable=False),
    sa.Column('submitted_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=False),
    sa.Column('extended_working_days', sa.Integer(), nullable=False),
    sa.Column('extension_reason', sa.Text(), nullable=True),
    sa.Column('extended_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=True),
    sa.Column('decided_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_status'), ['status'], unique=False)
        batch_op.create_index('uq_applications_one_pending', ['provider_id'], unique=True, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

    op.create_table('dps',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('term_years', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sla_version', sa.String(length=50), nullable=False),
    sa.Column('decision_working_days', sa.Integer(), nullable=False),
    sa.Column('extended_decision_working_days', sa.Integer(), nullable=False),
    sa.Column('closed_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dps'))
    )
    op.create_table('lots',
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_lots'))
    )
    op.create_table('providers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=False),
    sa.Column('companies_house_number', sa.String(length=20), nullable=True),
    sa.Column('charity_number', sa.String(length=20), nullable=True),
    sa.Column('registration_status', sa.String(length=30), nullable=False),
    sa.Column('urn', sa.String(length=6), nullable=True),
    sa.Column('ofsted_grade', sa.String(length=30), nullable=True),
    sa.Column('safeguarding_lead', sa.JSON(), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_providers'))
    )
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_providers_name'), ['name'], unique=False)

    op.create_table('compliance_documents',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('reference', sa.String(length=500), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_compliance_documents_provider_id_providers')),
    sa.PrimaryKeyConstraint('provider_id', 'kind', name=op.f('pk_compliance_documents'))
    )
    with op.batch_alter_table('compliance_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compliance_documents_expires_on'), ['expires_on'], unique=False)

    op.create_table('memberships',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('admitted_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_memberships_provider_id_providers')),
    sa.PrimaryKeyConstraint('provider_id', 'lot', name=op.f('pk_memberships'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index('ix_memberships_lot_status', ['lot', 'status'], unique=False)

    op.create_table('pricing_schedules',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('proposed_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('announced', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_pricing_schedules_provider_id_providers')),
    sa.PrimaryKeyConstraint('provider_id', 'lot', 'version', name=op.f('pk_pricing_schedules'))
    )
    with op.batch_alter_table('pricing_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pricing_schedules_status'), ['status'], unique=False)

    op.create_table('sla_acceptances',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.String(length=50), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_sla_acceptances_provider_id_providers')),
    sa.PrimaryKeyConstraint('provider_id', 'version', name=op.f('pk_sla_acceptances'))
    )
    _seed()


def downgrade() -> None:
    op.drop_table('sla_acceptances')
    with op.batch_alter_table('pricing_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pricing_schedules_status'))

    op.drop_table('pricing_schedules')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_memberships_lot_status')

    op.drop_table('memberships')
    with op.batch_alter_table('compliance_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compliance_documents_expires_on'))

    op.drop_table('compliance_documents')
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_providers_name'))

    op.drop_table('providers')
    op.drop_table('lots')
    op.drop_table('dps')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('uq_applications_one_pending', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_applications_status'))
        batch_op.drop_index(batch_op.f('ix_applications_provider_id'))
        batch_op.drop_index(batch_op.f('ix_applications_due_on'))

    op.drop_table('applications')
