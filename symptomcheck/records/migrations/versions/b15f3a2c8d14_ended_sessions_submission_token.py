"""ended browser sessions (ids only, kept until they would have expired); a contact form's one-time token

Revision ID: b15f3a2c8d14
Revises: d12e8c4b7f35
Create Date: 2026-12-02 00:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b15f3a2c8d14'
down_revision = 'd12e8c4b7f35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ended_session',
        sa.Column('session_id', sa.String(length=32), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('session_id'),
    )
    with op.batch_alter_table('ended_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ended_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ended_session_ended_at'), ['ended_at'], unique=False)
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_token', sa.String(length=43), nullable=True))
        batch_op.create_unique_constraint('uq_contact_request_submission_token', ['submission_token'])


def downgrade():
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.drop_constraint('uq_contact_request_submission_token', type_='unique')
        batch_op.drop_column('submission_token')
    with op.batch_alter_table('ended_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ended_session_ended_at'))
        batch_op.drop_index(batch_op.f('ix_ended_session_expires_at'))
    op.drop_table('ended_session')
