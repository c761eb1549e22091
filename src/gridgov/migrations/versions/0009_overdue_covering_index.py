"""overdue now: the running-clock index covers unit, node and case

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

RUNNING = sa.text('finished_at IS NULL AND paused_at IS NULL')


def _recreate(columns: list[str]) -> None:
    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.drop_index('ix_case_clocks_running_deadline', postgresql_where=RUNNING, sqlite_where=RUNNING)
        batch_op.create_index('ix_case_clocks_running_deadline', columns, unique=False,
                              postgresql_where=RUNNING, sqlite_where=RUNNING)


def upgrade() -> None:
    _recreate(['deadline_at', 'unit_id', 'node', 'case_id'])


def downgrade() -> None:
    _recreate(['deadline_at'])
