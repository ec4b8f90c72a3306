"""daily usage counters: how many checks started, pages sent, results and requests, per day; nothing per person

Revision ID: d12e8c4b7f35
Revises: c15b6e1d9a27
Create Date: 2026-12-02 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd12e8c4b7f35'
down_revision = 'c15b6e1d9a27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'usage_count',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('metric', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('day', 'metric', 'key', name='uq_usage_count_day_metric_key'),
    )
    with op.batch_alter_table('usage_count', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usage_count_day'), ['day'], unique=False)


def downgrade():
    with op.batch_alter_table('usage_count', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usage_count_day'))
    op.drop_table('usage_count')
