"""The interaction history: customers, identities, contacts, events, users.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contact_center.history.types import ID, JSONData, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("organisation", sa.String(200), nullable=True),
        sa.Column("tags", JSONData, nullable=False),
        sa.Column("attributes", JSONData, nullable=False),
        sa.Column("merged_into", ID, sa.ForeignKey("customers.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_customers_merged_into", "customers", ["merged_into"])

    op.create_table(
        "identities",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("kind", "value", name="uq_identities_kind_value"),
    )
    op.create_index("ix_identities_customer_id", "identities", ["customer_id"])

    op.create_table(
        "contacts",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("queue", sa.String(100), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("disposition", sa.String(100), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_contacts_customer_channel_state", "contacts", ["customer_id", "channel", "state"])
    op.create_index("ix_contacts_agent_id", "contacts", ["agent_id"])
    op.create_index("ix_contacts_external_id", "contacts", ["external_id"])

    op.create_table(
        "events",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("contact_id", ID, sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("direction", sa.String(8), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("client_id", sa.String(100), nullable=True),
        sa.Column("data", JSONData, nullable=False),
        sa.UniqueConstraint("contact_id", "client_id", name="uq_events_contact_client"),
    )
    op.create_index("ix_events_customer_id_id", "events", ["customer_id", "id"])
    op.create_index("ix_events_contact_id_id", "events", ["contact_id", "id"])

    op.create_table(
        "users",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("skills", JSONData, nullable=False),
        sa.Column("queues", JSONData, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_index("ix_events_contact_id_id", table_name="events")
    op.drop_index("ix_events_customer_id_id", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_contacts_external_id", table_name="contacts")
    op.drop_index("ix_contacts_agent_id", table_name="contacts")
    op.drop_index("ix_contacts_customer_channel_state", table_name="contacts")
    op.drop_table("contacts")
    op.drop_index("ix_identities_customer_id", table_name="identities")
    op.drop_table("identities")
    op.drop_index("ix_customers_merged_into", table_name="customers")
    op.drop_table("customers")
