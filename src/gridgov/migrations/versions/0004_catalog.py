"""catalog: domains, classes, versioned matter types, duty areas and rules

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
import gridgov.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalog_domains',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('type_code_prefixes', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_catalog_domains'))
    )
    op.create_table('catalog_duty_areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('street_code', sa.String(length=32), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_duty_areas')),
    sa.UniqueConstraint('name', name=op.f('uq_catalog_duty_areas_name'))
    )
    op.create_table('catalog_duty_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(length=32), nullable=False),
    sa.Column('type_code', sa.String(length=16), nullable=False),
    sa.Column('street_code', sa.String(length=32), nullable=True),
    sa.Column('owner_code', sa.String(length=32), nullable=True),
    sa.Column('area', sa.String(length=100), nullable=True),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('per_street_field_unit', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_duty_rules')),
    sa.UniqueConstraint('rule_id', name=op.f('uq_catalog_duty_rules_rule_id'))
    )
    with op.batch_alter_table('catalog_duty_rules', schema=None) as batch_op:
        batch_op.create_index('ix_catalog_duty_rules_type_active', ['type_code', 'active'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_duty_rules_unit_code'), ['unit_code'], unique=False)

    op.create_table('catalog_matter_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('created_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_matter_types')),
    sa.UniqueConstraint('code', name=op.f('uq_catalog_matter_types_code'))
    )
    op.create_table('catalog_classes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('major_code', sa.String(length=8), nullable=True),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['domain'], ['catalog_domains.code'], name=op.f('fk_catalog_classes_domain_catalog_domains')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_classes')),
    sa.UniqueConstraint('domain', 'category', 'code', name=op.f('uq_catalog_classes_domain_category_code'))
    )
    op.create_table('catalog_type_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('domain', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('major_class', sa.String(length=8), nullable=False),
    sa.Column('minor_class', sa.String(length=8), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('filing_condition', sa.Text(), nullable=False),
    sa.Column('closing_condition', sa.Text(), nullable=False),
    sa.Column('limit_value', sa.String(length=20), nullable=False),
    sa.Column('limit_unit', sa.String(length=20), nullable=False),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('default_grade', sa.String(length=4), nullable=False),
    sa.Column('valid_from', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_to', gridgov.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', gridgov.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('change_note', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['type_id'], ['catalog_matter_types.id'], name=op.f('fk_catalog_type_versions_type_id_catalog_matter_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_type_versions')),
    sa.UniqueConstraint('type_id', 'version', name=op.f('uq_catalog_type_versions_type_id_version'))
    )
    with op.batch_alter_table('catalog_type_versions', schema=None) as batch_op:
        batch_op.create_index('ix_catalog_type_versions_code_valid_from', ['code', 'valid_from'], unique=False)
        batch_op.create_index('ix_catalog_type_versions_current', ['valid_to', 'code'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_type_versions_default_grade'), ['default_grade'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_type_versions_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_type_versions_type_id'), ['type_id'], unique=False)
        batch_op.create_index('uq_catalog_type_versions_one_current', ['type_id'], unique=True, sqlite_where=sa.text('valid_to IS NULL'), postgresql_where=sa.text('valid_to IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('catalog_type_versions', schema=None) as batch_op:
        batch_op.drop_index('uq_catalog_type_versions_one_current', sqlite_where=sa.text('valid_to IS NULL'), postgresql_where=sa.text('valid_to IS NULL'))
        batch_op.drop_index(batch_op.f('ix_catalog_type_versions_type_id'))
        batch_op.drop_index(batch_op.f('ix_catalog_type_versions_domain'))
        batch_op.drop_index(batch_op.f('ix_catalog_type_versions_default_grade'))
        batch_op.drop_index('ix_catalog_type_versions_current')
        batch_op.drop_index('ix_catalog_type_versions_code_valid_from')

    op.drop_table('catalog_type_versions')
    op.drop_table('catalog_classes')
    op.drop_table('catalog_matter_types')
    with op.batch_alter_table('catalog_duty_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_duty_rules_unit_code'))
        batch_op.drop_index('ix_catalog_duty_rules_type_active')

    op.drop_table('catalog_duty_rules')
    op.drop_table('catalog_duty_areas')
    op.drop_table('catalog_domains')
