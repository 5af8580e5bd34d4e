"""Closing a Payment review entry: staff say why a callback kept for review needs no action.

- mpesa_callbacks gains reviewed_by / reviewed_at / review_note.
- easyisp_close_review(callback, note) moves a REVIEW callback to IGNORED with the note,
  checks payments.create in the callback's tenant and writes the audit trail. Staff have no
  UPDATE grant on mpesa_callbacks, so this function is the only way a review is closed.
  Money is never moved here: a callback that should have credited someone is credited
  through the suspense list or the statement reconciliation, both of which keep the receipt
  unique.

Revision ID: 20261125_0020
Revises: 20261125_0017
Create Date: 2026-11-25 17:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0020"
down_revision: str | None = "20261125_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = "easyisp_staff"
DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"

UPGRADE_SQL = f"""
ALTER TABLE mpesa_callbacks
  ADD COLUMN reviewed_by uuid
    CONSTRAINT fk_mpesa_callbacks_reviewed_by_users REFERENCES users (id) ON DELETE RESTRICT,
  ADD COLUMN reviewed_at timestamptz,
  ADD COLUMN review_note varchar(300);

CREATE FUNCTION easyisp_close_review(callback bigint, note text)
RETURNS void LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  c public.mpesa_callbacks;
  reason text := btrim(coalesce(note, ''));
BEGIN
  SELECT * INTO c FROM public.mpesa_callbacks WHERE id = callback FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such callback' USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM public.easyisp_require('payments.create', c.tenant_id, false);
  IF c.outcome <> 'REVIEW' THEN
    RAISE EXCEPTION 'this callback is no longer waiting for review'
      USING ERRCODE = 'check_violation';
  END IF;
  IF length(reason) < 3 THEN
    RAISE EXCEPTION 'say why this callback needs no action' USING ERRCODE = 'check_violation';
  END IF;
  UPDATE public.mpesa_callbacks
     SET outcome = 'IGNORED', reviewed_by = public.easyisp_current_user_id(),
         reviewed_at = now(), review_note = left(reason, 300)
   WHERE id = callback;
  -- Tenant-less callbacks (an unknown path token) have no tenant audit chain to join.
  IF c.tenant_id IS NOT NULL THEN
    INSERT INTO public.audit_logs (tenant_id, action, target_type, target_payment_gateway_id,
                                   target_label, details)
    VALUES (c.tenant_id, 'MPESA_REVIEW_CLOSED', 'PAYMENT_GATEWAY', c.gateway_id,
            'M-Pesa callback ' || coalesce(c.external_id, c.id::text), left(reason, 300));
  END IF;
END $$;
REVOKE EXECUTE ON FUNCTION easyisp_close_review(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION easyisp_close_review(bigint, text) TO {STAFF};
"""

DOWNGRADE_SQL = """
DROP FUNCTION easyisp_close_review(bigint, text);
ALTER TABLE mpesa_callbacks DROP COLUMN review_note, DROP COLUMN reviewed_at,
  DROP COLUMN reviewed_by;
"""


def upgrade() -> None:
    op.execute(UPGRADE_SQL)


def downgrade() -> None:
    op.execute(DOWNGRADE_SQL)
