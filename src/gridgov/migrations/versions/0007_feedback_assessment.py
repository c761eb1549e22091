"""feedback and assessment: replies, callbacks, sampling, public ratings; weight sets, versions,
scores and figures; indexes on the case tables for the month aggregates

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
import gridgov.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assessment_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('computed_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('computed_by', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('whistle_included', sa.Boolean(), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('published_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_runs')),
    sa.UniqueConstraint('month', 'version', name=op.f('uq_assessment_runs_month_version'))
    )
    with op.batch_alter_table('assessment_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_runs_month'), ['month'], unique=False)

    op.create_table('assessment_weight_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_kind', sa.String(length=20), nullable=False),
    sa.Column('valid_from', sa.String(length=7), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('created_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_weight_sets'))
    )
    with op.batch_alter_table('assessment_weight_sets', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_weight_sets_kind_from', ['unit_kind', 'valid_from'], unique=False)

    op.create_table('callback_sampling',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('share_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('effective_from', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('set_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('set_by', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_sampling'))
    )
    op.create_table('assessment_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=40), nullable=False),
    sa.Column('numerator', sa.Integer(), nullable=True),
    sa.Column('denominator', sa.Integer(), nullable=True),
    sa.Column('value', sa.Numeric(precision=14, scale=6), nullable=True),
    sa.Column('score', sa.Numeric(precision=7, scale=3), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['assessment_runs.id'], name=op.f('fk_assessment_figures_run_id_assessment_runs')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_assessment_figures_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_figures'))
    )
    with op.batch_alter_table('assessment_figures', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_figures_run_unit', ['run_id', 'unit_id'], unique=False)

    op.create_table('assessment_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('unit_name', sa.String(length=200), nullable=False),
    sa.Column('unit_kind', sa.String(length=20), nullable=False),
    sa.Column('composite', sa.Numeric(precision=7, scale=3), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['assessment_runs.id'], name=op.f('fk_assessment_scores_run_id_assessment_runs')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_assessment_scores_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_scores')),
    sa.UniqueConstraint('run_id', 'unit_id', name=op.f('uq_assessment_scores_run_id_unit_id'))
    )
    op.create_table('case_public_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tracked_case_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('rated_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_public_ratings_case_id_cases')),
    sa.ForeignKeyConstraint(['tracked_case_id'], ['cases.id'], name=op.f('fk_case_public_ratings_tracked_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_public_ratings')),
    sa.UniqueConstraint('tracked_case_id', name=op.f('uq_case_public_ratings_tracked_case_id'))
    )
    with op.batch_alter_table('case_public_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_public_ratings_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_public_ratings_rated_at'), ['rated_at'], unique=False)

    op.create_table('case_callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('sampled_as', sa.String(length=16), nullable=False),
    sa.Column('called_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('caller_id', sa.Integer(), nullable=True),
    sa.Column('caller_name', sa.String(length=100), nullable=False),
    sa.Column('reached', sa.Boolean(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('satisfaction', sa.String(length=16), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('decision', sa.String(length=8), nullable=True),
    sa.Column('decided_at', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['caller_id'], ['users.id'], name=op.f('fk_case_callbacks_caller_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_callbacks_case_id_cases')),
    sa.ForeignKeyConstraint(['reporter_id'], ['case_reporters.id'], name=op.f('fk_case_callbacks_reporter_id_case_reporters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_callbacks'))
    )
    with op.batch_alter_table('case_callbacks', schema=None) as batch_op:
        batch_op.create_index('ix_case_callbacks_called_at', ['called_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_callbacks_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_callbacks_reporter', ['reporter_id', 'called_at'], unique=False)

    op.create_table('case_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('way', sa.String(length=16), nullable=False),
    sa.Column('replied_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('replied_by_id', sa.Integer(), nullable=True),
    sa.Column('replied_by_name', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_replies_case_id_cases')),
    sa.ForeignKeyConstraint(['replied_by_id'], ['users.id'], name=op.f('fk_case_replies_replied_by_id_users')),
    sa.ForeignKeyConstraint(['reporter_id'], ['case_reporters.id'], name=op.f('fk_case_replies_reporter_id_case_reporters')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_case_replies_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_replies'))
    )
    with op.batch_alter_table('case_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_replies_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_replies_reporter_replied', ['reporter_id', 'replied_at'], unique=False)

    with op.batch_alter_table('case_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_case_assignments_assigned_at', ['assigned_at'], unique=False)

    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.create_index('ix_case_clocks_node_deadline', ['node', 'deadline_at'], unique=False)
        batch_op.create_index('ix_case_clocks_node_finished', ['node', 'finished_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_closed_at', ['closed_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_closed_at')

    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.drop_index('ix_case_clocks_node_finished')
        batch_op.drop_index('ix_case_clocks_node_deadline')

    with op.batch_alter_table('case_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_case_assignments_assigned_at')

    with op.batch_alter_table('case_replies', schema=None) as batch_op:
        batch_op.drop_index('ix_case_replies_reporter_replied')
        batch_op.drop_index(batch_op.f('ix_case_replies_case_id'))

    op.drop_table('case_replies')
    with op.batch_alter_table('case_callbacks', schema=None) as batch_op:
        batch_op.drop_index('ix_case_callbacks_reporter')
        batch_op.drop_index(batch_op.f('ix_case_callbacks_case_id'))
        batch_op.drop_index('ix_case_callbacks_called_at')

    op.drop_table('case_callbacks')
    with op.batch_alter_table('case_public_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_public_ratings_rated_at'))
        batch_op.drop_index(batch_op.f('ix_case_public_ratings_case_id'))

    op.drop_table('case_public_ratings')
    op.drop_table('assessment_scores')
    with op.batch_alter_table('assessment_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_figures_run_unit')

    op.drop_table('assessment_figures')
    op.drop_table('callback_sampling')
    with op.batch_alter_table('assessment_weight_sets', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_weight_sets_kind_from')

    op.drop_table('assessment_weight_sets')
    with op.batch_alter_table('assessment_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_runs_month'))

    op.drop_table('assessment_runs')
