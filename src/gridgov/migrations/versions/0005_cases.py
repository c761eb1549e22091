"""cases: channels, cases, reporters, assignments, clocks, events, extensions, attachments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
import gridgov.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_number_sequences',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_case_number_sequences'))
    )
    op.create_table('channels',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('requires_reference', sa.Boolean(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_channels'))
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('tracking_code', sa.String(length=16), nullable=False),
    sa.Column('channel_code', sa.String(length=32), nullable=False),
    sa.Column('channel_ref', sa.String(length=64), nullable=False),
    sa.Column('reported_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('lng', sa.Double(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('unit_grid_code', sa.String(length=15), nullable=False),
    sa.Column('basic_grid_code', sa.String(length=14), nullable=False),
    sa.Column('grid_version', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('type_code', sa.String(length=16), nullable=True),
    sa.Column('type_version_id', sa.Integer(), nullable=True),
    sa.Column('domain', sa.String(length=32), nullable=True),
    sa.Column('grade', sa.String(length=2), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('handling_limit_value', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('handling_limit_unit', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('suspended_from', sa.String(length=16), nullable=True),
    sa.Column('supervised', sa.Boolean(), nullable=False),
    sa.Column('holder_unit_id', sa.Integer(), nullable=True),
    sa.Column('responsible_unit_id', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('close_kind', sa.String(length=16), nullable=True),
    sa.Column('dispatch_count', sa.Integer(), nullable=False),
    sa.Column('return_count', sa.Integer(), nullable=False),
    sa.Column('rework_count', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['channel_code'], ['channels.code'], name=op.f('fk_cases_channel_code_channels')),
    sa.ForeignKeyConstraint(['community_id'], ['units.id'], name=op.f('fk_cases_community_id_units')),
    sa.ForeignKeyConstraint(['holder_unit_id'], ['units.id'], name=op.f('fk_cases_holder_unit_id_units')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['cases.id'], name=op.f('fk_cases_merged_into_id_cases')),
    sa.ForeignKeyConstraint(['responsible_unit_id'], ['units.id'], name=op.f('fk_cases_responsible_unit_id_units')),
    sa.ForeignKeyConstraint(['street_id'], ['units.id'], name=op.f('fk_cases_street_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('channel_code', 'channel_ref', name='uq_cases_channel_ref'),
    sa.UniqueConstraint('number', name=op.f('uq_cases_number')),
    sa.UniqueConstraint('tracking_code', name=op.f('uq_cases_tracking_code'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_channel_code'), ['channel_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_cases_holder_status', ['holder_unit_id', 'status'], unique=False)
        batch_op.create_index('ix_cases_lat_lng', ['lat', 'lng'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_reported_at'), ['reported_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_responsible_unit_id'), ['responsible_unit_id'], unique=False)
        batch_op.create_index('ix_cases_status_reported', ['status', 'reported_at'], unique=False)
        batch_op.create_index('ix_cases_street_status', ['street_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_type_code'), ['type_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_unit_grid_code'), ['unit_grid_code'], unique=False)

    op.create_table('case_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('from_unit_id', sa.Integer(), nullable=True),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('assigned_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_assignments_case_id_cases')),
    sa.ForeignKeyConstraint(['from_unit_id'], ['units.id'], name=op.f('fk_case_assignments_from_unit_id_units')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_case_assignments_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_assignments'))
    )
    with op.batch_alter_table('case_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_assignments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_assignments_unit_id'), ['unit_id'], unique=False)

    op.create_table('case_clocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('node', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('limit_value', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('limit_unit', sa.String(length=20), nullable=False),
    sa.Column('started_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=True),
    sa.Column('paused_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('remaining', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_clocks_case_id_cases')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_case_clocks_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_clocks'))
    )
    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_clocks_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_clocks_running_deadline', ['deadline_at'], unique=False, postgresql_where=sa.text('finished_at IS NULL AND paused_at IS NULL'), sqlite_where=sa.text('finished_at IS NULL AND paused_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_case_clocks_unit_id'), ['unit_id'], unique=False)

    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
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
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_events_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases')),
    sa.ForeignKeyConstraint(['target_unit_id'], ['units.id'], name=op.f('fk_case_events_target_unit_id_units')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_case_events_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index('ix_case_events_transition_at', ['transition', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_events_unit_id'), ['unit_id'], unique=False)

    op.create_table('case_extension_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_unit_id', sa.Integer(), nullable=False),
    sa.Column('extra_value', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('extra_unit', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('decided_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_extension_requests_case_id_cases')),
    sa.ForeignKeyConstraint(['requested_by_unit_id'], ['units.id'], name=op.f('fk_case_extension_requests_requested_by_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_extension_requests'))
    )
    with op.batch_alter_table('case_extension_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_extension_requests_case_id'), ['case_id'], unique=False)

    op.create_table('case_reporters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('original_case_id', sa.Integer(), nullable=False),
    sa.Column('channel_code', sa.String(length=32), nullable=False),
    sa.Column('channel_ref', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('reported_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_reporters_case_id_cases')),
    sa.ForeignKeyConstraint(['original_case_id'], ['cases.id'], name=op.f('fk_case_reporters_original_case_id_cases')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_reporters_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_reporters'))
    )
    with op.batch_alter_table('case_reporters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_reporters_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_reporters_user_id'), ['user_id'], unique=False)

    op.create_table('case_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=True),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_attachments_case_id_cases')),
    sa.ForeignKeyConstraint(['event_id'], ['case_events.id'], name=op.f('fk_case_attachments_event_id_case_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_attachments'))
    )
    with op.batch_alter_table('case_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_attachments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_attachments_sha256'), ['sha256'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_attachments_sha256'))
        batch_op.drop_index(batch_op.f('ix_case_attachments_case_id'))

    op.drop_table('case_attachments')
    with op.batch_alter_table('case_reporters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_reporters_user_id'))
        batch_op.drop_index(batch_op.f('ix_case_reporters_case_id'))

    op.drop_table('case_reporters')
    with op.batch_alter_table('case_extension_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_extension_requests_case_id'))

    op.drop_table('case_extension_requests')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_events_unit_id'))
        batch_op.drop_index('ix_case_events_transition_at')
        batch_op.drop_index(batch_op.f('ix_case_events_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_case_events_case_id'))

    op.drop_table('case_events')
    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_clocks_unit_id'))
        batch_op.drop_index('ix_case_clocks_running_deadline', postgresql_where=sa.text('finished_at IS NULL AND paused_at IS NULL'), sqlite_where=sa.text('finished_at IS NULL AND paused_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_case_clocks_case_id'))

    op.drop_table('case_clocks')
    with op.batch_alter_table('case_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_assignments_unit_id'))
        batch_op.drop_index(batch_op.f('ix_case_assignments_case_id'))

    op.drop_table('case_assignments')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_unit_grid_code'))
        batch_op.drop_index(batch_op.f('ix_cases_type_code'))
        batch_op.drop_index('ix_cases_street_status')
        batch_op.drop_index('ix_cases_status_reported')
        batch_op.drop_index(batch_op.f('ix_cases_responsible_unit_id'))
        batch_op.drop_index(batch_op.f('ix_cases_reported_at'))
        batch_op.drop_index('ix_cases_lat_lng')
        batch_op.drop_index('ix_cases_holder_status')
        batch_op.drop_index(batch_op.f('ix_cases_community_id'))
        batch_op.drop_index(batch_op.f('ix_cases_channel_code'))

    op.drop_table('cases')
    op.drop_table('channels')
    op.drop_table('case_number_sequences')
