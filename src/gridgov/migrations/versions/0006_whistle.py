"""whistle: situations, whistles, summons, clocks, events, attachments, number sequences

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
import gridgov.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('whistle_number_sequences',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_whistle_number_sequences'))
    )
    op.create_table('whistle_situations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('area', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('start_standard', sa.Text(), nullable=False),
    sa.Column('department_codes', sa.JSON(), nullable=False),
    sa.Column('limit_value', sa.String(length=20), nullable=False),
    sa.Column('limit_unit', sa.String(length=20), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('demo', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('retired_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retire_reason', sa.Text(), nullable=True),
    sa.Column('created_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whistle_situations')),
    sa.UniqueConstraint('code', name=op.f('uq_whistle_situations_code'))
    )
    with op.batch_alter_table('whistle_situations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whistle_situations_area'), ['area'], unique=False)

    op.create_table('whistles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('started_by_unit_id', sa.Integer(), nullable=False),
    sa.Column('started_by_user_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('situation_id', sa.Integer(), nullable=False),
    sa.Column('situation_code', sa.String(length=16), nullable=False),
    sa.Column('situation_name', sa.String(length=100), nullable=False),
    sa.Column('area', sa.String(length=16), nullable=False),
    sa.Column('limit_value', sa.String(length=20), nullable=False),
    sa.Column('limit_unit', sa.String(length=20), nullable=False),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('lng', sa.Double(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('unit_grid_code', sa.String(length=15), nullable=False),
    sa.Column('assemble_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('summoned_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('outcome_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reply_text', sa.Text(), nullable=True),
    sa.Column('reply_way', sa.String(length=16), nullable=True),
    sa.Column('replied_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('close_note', sa.Text(), nullable=True),
    sa.Column('closed_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('cancelled_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_whistles_case_id_cases')),
    sa.ForeignKeyConstraint(['community_id'], ['units.id'], name=op.f('fk_whistles_community_id_units')),
    sa.ForeignKeyConstraint(['situation_id'], ['whistle_situations.id'], name=op.f('fk_whistles_situation_id_whistle_situations')),
    sa.ForeignKeyConstraint(['started_by_unit_id'], ['units.id'], name=op.f('fk_whistles_started_by_unit_id_units')),
    sa.ForeignKeyConstraint(['started_by_user_id'], ['users.id'], name=op.f('fk_whistles_started_by_user_id_users')),
    sa.ForeignKeyConstraint(['street_id'], ['units.id'], name=op.f('fk_whistles_street_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whistles')),
    sa.UniqueConstraint('number', name=op.f('uq_whistles_number'))
    )
    with op.batch_alter_table('whistles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whistles_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_whistles_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_whistles_situation_id'), ['situation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_whistles_started_at'), ['started_at'], unique=False)
        batch_op.create_index('ix_whistles_status_started', ['status', 'started_at'], unique=False)
        batch_op.create_index('ix_whistles_street_started', ['street_id', 'started_at'], unique=False)

    op.create_table('whistle_summons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('whistle_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('task', sa.Text(), nullable=False),
    sa.Column('added_by', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('report_in_due_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cutoff_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reported_in_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reported_by_unit_id', sa.Integer(), nullable=True),
    sa.Column('reported_by_user_id', sa.Integer(), nullable=True),
    sa.Column('arrived_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('arrival_place', sa.String(length=300), nullable=True),
    sa.Column('leader', sa.String(length=100), nullable=True),
    sa.Column('headcount', sa.Integer(), nullable=True),
    sa.Column('forces', sa.Text(), nullable=True),
    sa.Column('done_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('assessment', sa.String(length=10), nullable=True),
    sa.Column('lateness', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('responsiveness', sa.Numeric(precision=5, scale=1), nullable=True),
    sa.Column('rating_efficiency', sa.Integer(), nullable=True),
    sa.Column('rating_cooperation', sa.Integer(), nullable=True),
    sa.Column('rating_professionalism', sa.Integer(), nullable=True),
    sa.Column('rating_responsibility', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sa.Text(), nullable=True),
    sa.Column('rated_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('assessed_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['reported_by_unit_id'], ['units.id'], name=op.f('fk_whistle_summons_reported_by_unit_id_units')),
    sa.ForeignKeyConstraint(['reported_by_user_id'], ['users.id'], name=op.f('fk_whistle_summons_reported_by_user_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_whistle_summons_unit_id_units')),
    sa.ForeignKeyConstraint(['whistle_id'], ['whistles.id'], name=op.f('fk_whistle_summons_whistle_id_whistles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whistle_summons')),
    sa.UniqueConstraint('whistle_id', 'unit_id', name=op.f('uq_whistle_summons_whistle_id_unit_id'))
    )
    with op.batch_alter_table('whistle_summons', schema=None) as batch_op:
        batch_op.create_index('ix_whistle_summons_unit_whistle', ['unit_id', 'whistle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_whistle_summons_whistle_id'), ['whistle_id'], unique=False)

    op.create_table('whistle_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('whistle_id', sa.Integer(), nullable=False),
    sa.Column('summons_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=True),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_by_unit_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['summons_id'], ['whistle_summons.id'], name=op.f('fk_whistle_attachments_summons_id_whistle_summons')),
    sa.ForeignKeyConstraint(['uploaded_by_unit_id'], ['units.id'], name=op.f('fk_whistle_attachments_uploaded_by_unit_id_units')),
    sa.ForeignKeyConstraint(['whistle_id'], ['whistles.id'], name=op.f('fk_whistle_attachments_whistle_id_whistles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whistle_attachments'))
    )
    with op.batch_alter_table('whistle_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whistle_attachments_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_whistle_attachments_whistle_id'), ['whistle_id'], unique=False)

    op.create_table('whistle_clocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('whistle_id', sa.Integer(), nullable=False),
    sa.Column('summons_id', sa.Integer(), nullable=True),
    sa.Column('node', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('limit_value', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('limit_unit', sa.String(length=20), nullable=False),
    sa.Column('started_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['summons_id'], ['whistle_summons.id'], name=op.f('fk_whistle_clocks_summons_id_whistle_summons')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_whistle_clocks_unit_id_units')),
    sa.ForeignKeyConstraint(['whistle_id'], ['whistles.id'], name=op.f('fk_whistle_clocks_whistle_id_whistles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whistle_clocks'))
    )
    with op.batch_alter_table('whistle_clocks', schema=None) as batch_op:
        batch_op.create_index('ix_whistle_clocks_running_deadline', ['deadline_at'], unique=False, postgresql_where=sa.text('finished_at IS NULL'), sqlite_where=sa.text('finished_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_whistle_clocks_whistle_id'), ['whistle_id'], unique=False)

    op.create_table('whistle_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('whistle_id', sa.Integer(), nullable=False),
    sa.Column('summons_id', sa.Integer(), nullable=True),
    sa.Column('transition', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('target_unit_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('occurred_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_whistle_events_actor_id_users')),
    sa.ForeignKeyConstraint(['summons_id'], ['whistle_summons.id'], name=op.f('fk_whistle_events_summons_id_whistle_summons')),
    sa.ForeignKeyConstraint(['target_unit_id'], ['units.id'], name=op.f('fk_whistle_events_target_unit_id_units')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_whistle_events_unit_id_units')),
    sa.ForeignKeyConstraint(['whistle_id'], ['whistles.id'], name=op.f('fk_whistle_events_whistle_id_whistles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whistle_events'))
    )
    with op.batch_alter_table('whistle_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whistle_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_whistle_events_whistle_id'), ['whistle_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('whistle_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whistle_events_whistle_id'))
        batch_op.drop_index(batch_op.f('ix_whistle_events_occurred_at'))

    op.drop_table('whistle_events')
    with op.batch_alter_table('whistle_clocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whistle_clocks_whistle_id'))
        batch_op.drop_index('ix_whistle_clocks_running_deadline', postgresql_where=sa.text('finished_at IS NULL'), sqlite_where=sa.text('finished_at IS NULL'))

    op.drop_table('whistle_clocks')
    with op.batch_alter_table('whistle_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whistle_attachments_whistle_id'))
        batch_op.drop_index(batch_op.f('ix_whistle_attachments_sha256'))

    op.drop_table('whistle_attachments')
    with op.batch_alter_table('whistle_summons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whistle_summons_whistle_id'))
        batch_op.drop_index('ix_whistle_summons_unit_whistle')

    op.drop_table('whistle_summons')
    with op.batch_alter_table('whistles', schema=None) as batch_op:
        batch_op.drop_index('ix_whistles_street_started')
        batch_op.drop_index('ix_whistles_status_started')
        batch_op.drop_index(batch_op.f('ix_whistles_started_at'))
        batch_op.drop_index(batch_op.f('ix_whistles_situation_id'))
        batch_op.drop_index(batch_op.f('ix_whistles_community_id'))
        batch_op.drop_index(batch_op.f('ix_whistles_case_id'))

    op.drop_table('whistles')
    with op.batch_alter_table('whistle_situations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whistle_situations_area'))

    op.drop_table('whistle_situations')
    op.drop_table('whistle_number_sequences')
