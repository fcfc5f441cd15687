"""add notes.pinned

Expand only: the column has a database default, so the release still running beside this one
(blue-green, canary) keeps inserting rows without knowing the column. Adding a column with a
constant default changes only the catalog (PostgreSQL 11+), but it still takes a brief ACCESS
EXCLUSIVE lock on notes: the migration Job's lock_timeout (PGOPTIONS) makes it fail fast instead
of queueing every request behind a long transaction.

Revision ID: 0002
Revises: 0001
Create Date: 2026-03-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notes", sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("notes", "pinned")
