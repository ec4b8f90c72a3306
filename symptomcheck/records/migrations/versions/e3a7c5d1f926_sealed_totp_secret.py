"""two-factor secrets stored sealed (AES-GCM with a key from SECRET_KEY): room for the sealed text

Revision ID: e3a7c5d1f926
Revises: b15f3a2c8d14
Create Date: 2026-12-02 04:20:00.000000

A secret stored before this migration is read as it is and sealed at the account's next two-factor login.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3a7c5d1f926'
down_revision = 'b15f3a2c8d14'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=32), type_=sa.String(length=128))


def downgrade():
    # A sealed secret does not fit the old column: those accounts set up two-factor login again.
    op.execute("UPDATE staff SET totp_secret = NULL, totp_enrolled_at = NULL WHERE length(totp_secret) > 32")
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=128), type_=sa.String(length=32))
