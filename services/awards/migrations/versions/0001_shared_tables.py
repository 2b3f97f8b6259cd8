"""shared tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 08:21:21.107963
"""
from shared.migrations import shared_tables


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    shared_tables.upgrade()


def downgrade() -> None:
    shared_tables.downgrade()
