"""Voided vouchers: a lost or stolen printed card can be cancelled before anyone uses it.

`voucher_status` gains VOIDED. A trigger keeps the rule for every client (console, CLI, SQL):
only an unused (AVAILABLE) voucher can be voided, and a voided one stays voided; a used card
was sold and spent, so voiding it would erase that history. Who may void is the existing
vouchers.write row-level policy, and the existing audit trigger records the change
(VOUCHER_UPDATE, status AVAILABLE -> VOIDED). RADIUS reads vouchers from the database on
every request (never cached), so a voided code is refused on its next login.

Revision ID: 20261206_0030
Revises: 20261206_0029
Create Date: 2026-12-06 04:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261206_0030"
down_revision: str | None = "20261206_0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER_SQL = """
CREATE FUNCTION easyisp_voucher_void_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'VOIDED' AND NEW.status <> 'VOIDED' THEN
    RAISE EXCEPTION 'voucher % was voided; a voided voucher cannot be used again', OLD.code
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status = 'VOIDED' AND OLD.status NOT IN ('AVAILABLE', 'VOIDED') THEN
    RAISE EXCEPTION 'voucher % is %; only an unused voucher can be voided',
      OLD.code, lower(OLD.status::text)
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER vouchers_void_guard BEFORE UPDATE OF status ON vouchers
  FOR EACH ROW EXECUTE FUNCTION easyisp_voucher_void_guard();
"""

DOWNGRADE_SQL = """
DROP TRIGGER vouchers_void_guard ON vouchers;
DROP FUNCTION easyisp_voucher_void_guard();
-- PostgreSQL cannot drop an enum value: rebuild the type without it (voided cards become
-- EXPIRED, which RADIUS refuses too).
UPDATE vouchers SET status = 'EXPIRED' WHERE status = 'VOIDED';
ALTER TYPE voucher_status RENAME TO voucher_status_with_void;
CREATE TYPE voucher_status AS ENUM ('AVAILABLE', 'USED', 'EXPIRED');
ALTER TABLE vouchers DROP CONSTRAINT ck_vouchers_used_has_time;
ALTER TABLE vouchers ALTER COLUMN status DROP DEFAULT;
ALTER TABLE vouchers ALTER COLUMN status TYPE voucher_status USING status::text::voucher_status;
ALTER TABLE vouchers ALTER COLUMN status SET DEFAULT 'AVAILABLE';
ALTER TABLE vouchers ADD CONSTRAINT ck_vouchers_used_has_time
  CHECK (status <> 'USED' OR used_at IS NOT NULL);
DROP TYPE voucher_status_with_void;
"""


def upgrade() -> None:
    # ADD VALUE may run in the migration's transaction as long as nothing in it uses the
    # new value (the trigger's body is only parsed when it first runs).
    op.execute("ALTER TYPE voucher_status ADD VALUE IF NOT EXISTS 'VOIDED'")
    op.execute(TRIGGER_SQL)


def downgrade() -> None:
    op.execute(DOWNGRADE_SQL)
