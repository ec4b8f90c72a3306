"""desk alert outbox, request language

Revision ID: 5d2e8a41c7b9
Revises: 180cd3da3990
Create Date: 2026-12-01 22:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2e8a41c7b9'
down_revision = '180cd3da3990'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))

    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['contact_request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'kind', name='uq_alert_request_kind')
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_sent_at'), ['sent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_sent_at'))
        batch_op.drop_index(batch_op.f('ix_alert_request_id'))
        batch_op.drop_index(batch_op.f('ix_alert_next_attempt_at'))

    op.drop_table('alert')
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.drop_column('language')
