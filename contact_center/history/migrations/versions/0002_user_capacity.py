"""Users: an optional capacity per channel that overrides the `[routing] capacity` defaults.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contact_center.history.types import JSONData

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: existing users keep the defaults (None), and adding it rewrites no rows.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("capacity", JSONData, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("capacity")
