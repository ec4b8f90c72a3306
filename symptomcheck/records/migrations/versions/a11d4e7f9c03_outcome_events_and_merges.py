"""closing and verdicts in a request's history; a possible duplicate merged into the request kept

Revision ID: a11d4e7f9c03
Revises: a11b2c9e5f48
Create Date: 2026-12-02 00:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11d4e7f9c03'
down_revision = 'a11b2c9e5f48'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('request_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('verdict', sa.String(length=20), nullable=True))
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_contact_request_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_foreign_key('fk_contact_request_merged_into_id', 'contact_request', ['merged_into_id'],
                                    ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.drop_constraint('fk_contact_request_merged_into_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_contact_request_merged_into_id'))
        batch_op.drop_column('merged_into_id')
    with op.batch_alter_table('request_event', schema=None) as batch_op:
        batch_op.drop_column('verdict')
        batch_op.drop_column('outcome')
