"""a request may update an earlier one: the person changed their answers after sending

Revision ID: b7e1c0d4a2f5
Revises: 9c4f1e2a7d30
Create Date: 2026-12-01 23:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e1c0d4a2f5'
down_revision = '9c4f1e2a7d30'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updates_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_contact_request_updates_id'), ['updates_id'], unique=False)
        batch_op.create_foreign_key('fk_contact_request_updates_id_contact_request', 'contact_request',
                                    ['updates_id'], ['id'])


def downgrade():
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.drop_constraint('fk_contact_request_updates_id_contact_request', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_contact_request_updates_id'))
        batch_op.drop_column('updates_id')
