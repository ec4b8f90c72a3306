"""a request's closing outcome and a clinician's verdict on its level; the clinician role

Revision ID: c3d9a6f1e8b2
Revises: b7e1c0d4a2f5
Create Date: 2026-12-02 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d9a6f1e8b2'
down_revision = 'b7e1c0d4a2f5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_clinician', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('outcome_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('verdict', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('verdict_level', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('verdict_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('verdict_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('verdict_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_contact_request_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_request_verdict'), ['verdict'], unique=False)
        batch_op.create_foreign_key('fk_contact_request_verdict_by_id_staff', 'staff', ['verdict_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.drop_constraint('fk_contact_request_verdict_by_id_staff', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_contact_request_verdict'))
        batch_op.drop_index(batch_op.f('ix_contact_request_outcome'))
        for column in ('verdict_at', 'verdict_by_id', 'verdict_note', 'verdict_level', 'verdict', 'outcome_note',
                       'outcome'):
            batch_op.drop_column(column)
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('is_clinician')
