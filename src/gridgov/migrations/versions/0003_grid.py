"""grid: grid versions and cells (every version), grid revisions, components

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
import gridgov.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('grid_revisions',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('changed_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_grid_revisions'))
    )
    op.create_table('grid_versions',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('level', sa.String(length=12), nullable=False),
    sa.Column('effective_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source_name', sa.String(length=200), nullable=True),
    sa.Column('source_crs', sa.String(length=8), nullable=False),
    sa.Column('cells', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Integer(), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_versions'))
    )
    with op.batch_alter_table('grid_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_versions_level'), ['level'], unique=False)

    op.create_table('grid_cells',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=12), nullable=False),
    sa.Column('code', sa.String(length=15), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_code', sa.String(length=15), nullable=False),
    sa.Column('basic_code', sa.String(length=14), nullable=True),
    sa.Column('geometry', sa.LargeBinary(), nullable=False),
    sa.Column('area_m2', sa.Double(), nullable=False),
    sa.Column('point_lng', sa.Double(), nullable=False),
    sa.Column('point_lat', sa.Double(), nullable=False),
    sa.Column('version_from', sa.Integer(), nullable=False),
    sa.Column('version_to', sa.Integer(), nullable=True),
    sa.Column('valid_from', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_to', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['version_from'], ['grid_versions.id'], name=op.f('fk_grid_cells_version_from_grid_versions')),
    sa.ForeignKeyConstraint(['version_to'], ['grid_versions.id'], name=op.f('fk_grid_cells_version_to_grid_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_cells')),
    sa.UniqueConstraint('code', 'version_from', name=op.f('uq_grid_cells_code_version_from'))
    )
    with op.batch_alter_table('grid_cells', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_cells_code'), ['code'], unique=False)
        batch_op.create_index('ix_grid_cells_level_active', ['level', 'version_to'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_cells_parent_code'), ['parent_code'], unique=False)
        batch_op.create_index('uq_grid_cells_active_code', ['code'], unique=True, sqlite_where=sa.text('version_to IS NULL'), postgresql_where=sa.text('version_to IS NULL'))

    op.create_table('components',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('minor_class', sa.String(length=4), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('owner_unit_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('lng', sa.Double(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('unit_grid_code', sa.String(length=15), nullable=True),
    sa.Column('basic_code', sa.String(length=14), nullable=True),
    sa.Column('grid_version', sa.Integer(), nullable=True),
    sa.Column('created_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(code) = 16', name=op.f('ck_components_code_length')),
    sa.ForeignKeyConstraint(['owner_unit_id'], ['units.id'], name=op.f('fk_components_owner_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_components')),
    sa.UniqueConstraint('code', name=op.f('uq_components_code'))
    )
    with op.batch_alter_table('components', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_components_basic_code'), ['basic_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_components_minor_class'), ['minor_class'], unique=False)
        batch_op.create_index(batch_op.f('ix_components_owner_unit_id'), ['owner_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_components_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_components_unit_grid_code'), ['unit_grid_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('components', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_components_unit_grid_code'))
        batch_op.drop_index(batch_op.f('ix_components_status'))
        batch_op.drop_index(batch_op.f('ix_components_owner_unit_id'))
        batch_op.drop_index(batch_op.f('ix_components_minor_class'))
        batch_op.drop_index(batch_op.f('ix_components_basic_code'))

    op.drop_table('components')
    with op.batch_alter_table('grid_cells', schema=None) as batch_op:
        batch_op.drop_index('uq_grid_cells_active_code', sqlite_where=sa.text('version_to IS NULL'), postgresql_where=sa.text('version_to IS NULL'))
        batch_op.drop_index(batch_op.f('ix_grid_cells_parent_code'))
        batch_op.drop_index('ix_grid_cells_level_active')
        batch_op.drop_index(batch_op.f('ix_grid_cells_code'))

    op.drop_table('grid_cells')
    with op.batch_alter_table('grid_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_versions_level'))

    op.drop_table('grid_versions')
    op.drop_table('grid_revisions')
