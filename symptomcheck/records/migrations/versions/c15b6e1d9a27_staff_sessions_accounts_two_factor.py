"""staff sessions stored server-side, disabled accounts and temporary passwords, two-factor login, login attempts
keyed by a hash of the name typed

Revision ID: c15b6e1d9a27
Revises: a11d4e7f9c03
Create Date: 2026-12-02 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c15b6e1d9a27'
down_revision = 'a11d4e7f9c03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('totp_enrolled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.create_table(
        'staff_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('id_hash'),
    )
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_session_staff_id'), ['staff_id'], unique=False)
    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=255), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_staff_id'), ['staff_id'], unique=False)
    # The names typed in failed logins are not kept: the old rows, which hold them as typed, go.
    op.execute('DELETE FROM login_attempt')
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_username')
        batch_op.drop_column('username')
        batch_op.add_column(sa.Column('name_key', sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column('staff_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_login_attempt_name_key'), ['name_key'], unique=False)
        batch_op.create_foreign_key('fk_login_attempt_staff_id_staff', 'staff', ['staff_id'], ['id'], ondelete='CASCADE')


def downgrade():
    op.execute('DELETE FROM login_attempt')
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_constraint('fk_login_attempt_staff_id_staff', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_login_attempt_name_key'))
        batch_op.drop_column('staff_id')
        batch_op.drop_column('name_key')
        batch_op.add_column(sa.Column('username', sa.String(length=80), nullable=False))
        batch_op.create_index('ix_login_attempt_username', ['username'], unique=False)
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_staff_id'))
    op.drop_table('recovery_code')
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_session_staff_id'))
    op.drop_table('staff_session')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        for column in ('totp_last_step', 'totp_enrolled_at', 'totp_secret', 'must_change_password', 'disabled_at'):
            batch_op.drop_column(column)
