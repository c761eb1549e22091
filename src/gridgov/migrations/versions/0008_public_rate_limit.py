"""public rate limit: submissions per client address (hashed) and clock hour

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa
import gridgov.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('public_rate_windows',
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('window_start', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'client_key', 'window_start', name=op.f('pk_public_rate_windows'))
    )
    with op.batch_alter_table('public_rate_windows', schema=None) as batch_op:
        batch_op.create_index('ix_public_rate_windows_window_start', ['window_start'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('public_rate_windows', schema=None) as batch_op:
        batch_op.drop_index('ix_public_rate_windows_window_start')

    op.drop_table('public_rate_windows')
