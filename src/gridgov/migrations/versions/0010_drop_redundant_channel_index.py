"""cases: drop ix_cases_channel_code, which the unique (channel_code, channel_ref) index leads

A lookup of a batch's references (channel = x AND reference IN (...)) would otherwise be
planned on the single-column index, reading every case of the channel, whenever the
statistics are stale.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_channel_code')


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_channel_code', ['channel_code'], unique=False)
