"""assignment and contact attempts

Revision ID: 9c4f1e2a7d30
Revises: 5d2e8a41c7b9
Create Date: 2026-12-01 22:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c4f1e2a7d30'
down_revision = '5d2e8a41c7b9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_contact_request_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_foreign_key('fk_contact_request_assigned_to_id_staff', 'staff', ['assigned_to_id'], ['id'])

    with op.batch_alter_table('request_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_request_event_assigned_to_id_staff', 'staff', ['assigned_to_id'], ['id'])


def downgrade():
    with op.batch_alter_table('request_event', schema=None) as batch_op:
        batch_op.drop_constraint('fk_request_event_assigned_to_id_staff', type_='foreignkey')
        batch_op.drop_column('assigned_to_id')
        batch_op.drop_column('attempt')

    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.drop_constraint('fk_contact_request_assigned_to_id_staff', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_contact_request_assigned_to_id'))
        batch_op.drop_column('assigned_to_id')
