"""Declarative base with deterministic constraint names and shared column helpers."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from sqlalchemy import DateTime, Enum, ForeignKey, MetaData, Numeric, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Money: 12 digits with cents covers any ISP's ledger in KES; always Decimal in Python.
Money = Annotated[Decimal, mapped_column(Numeric(14, 2))]
UUIDPk = Annotated[
    uuid.UUID,
    mapped_column(UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # SQLAlchemy reads this class attribute.
    type_annotation_map = {datetime: DateTime(timezone=True), Decimal: Numeric(14, 2)}  # noqa: RUF012


def pg_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A PostgreSQL enum type storing the Python enum's values."""
    return Enum(
        enum_cls,
        name=name,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class TenantScoped:
    """Every business row belongs to exactly one tenant (the RLS key)."""

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805 - SQLAlchemy declared_attr signature
        return mapped_column(
            UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
        )


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Set by the trigger easyisp_touch_updated_at: staff may not write the column themselves
    # (migration 0003), so the ORM must not put it into an UPDATE.
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
