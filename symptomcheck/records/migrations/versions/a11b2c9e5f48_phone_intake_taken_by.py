"""who took a phone intake's call; no consent time on an emergency call record

Revision ID: a11b2c9e5f48
Revises: c3d9a6f1e8b2
Create Date: 2026-12-02 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11b2c9e5f48'
down_revision = 'c3d9a6f1e8b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('taken_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_contact_request_taken_by_id_staff', 'staff', ['taken_by_id'], ['id'])
        batch_op.alter_column('consented_at', existing_type=sa.DateTime(timezone=True), nullable=True)


def downgrade():
    # An emergency call record has no consent time: give it the time it was recorded, so the column can be required.
    op.execute("UPDATE contact_request SET consented_at = received_at WHERE consented_at IS NULL")
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.alter_column('consented_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_constraint('fk_contact_request_taken_by_id_staff', type_='foreignkey')
        batch_op.drop_column('taken_by_id')
