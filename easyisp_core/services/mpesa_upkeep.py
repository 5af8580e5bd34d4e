"""Scheduled M-Pesa upkeep: expire unanswered STK pushes and purge them after the retention
period, auto-renew at expiry from the wallet, and list stored callbacks that were never
processed (for the retry sweep)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from easyisp_core.repositories.mpesa_callbacks import MpesaCallbackRepository
from easyisp_core.repositories.mpesa_payments import (
    PendingPaymentRepository,
    ReauthorisationRepository,
    WalletCustomerRepository,
)
from easyisp_core.repositories.payments import WalletRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Renewal:
    customer_id: uuid.UUID
    new_expiry: datetime
    reauthorise_command: int | None


def expire_pending(session: Session, now: datetime) -> int:
    """Mark STK pushes past their expiry EXPIRED. A success that arrives later still credits
    the wallet (money taken is never lost); only the portal stops waiting."""
    return PendingPaymentRepository(session).expire_due(now)


def purge_expired_pending(
    session: Session, now: datetime, retention: timedelta, limit: int = 5000
) -> int:
    """Delete STK pushes that were never paid once `retention` has passed since they expired.
    Kept that long so staff can still see a complaint's failed attempt; a success reported
    after that finds no push and is kept for review, never lost. Batched: a backlog is
    worked off over several runs instead of one long transaction."""
    purged = PendingPaymentRepository(session).purge_dead(now - retention, limit)
    if purged:
        log.info("purged %d unpaid STK pushes older than %s", purged, retention)
    return purged


def renew_due(session: Session, now: datetime, limit: int = 500) -> list[Renewal]:
    """Renew every expired customer whose wallet covers the package, once each: the rows are
    locked, and a renewed customer's expiry is past `now`, so a second run finds nothing."""
    customers = WalletCustomerRepository(session)
    wallets = WalletRepository(session)
    reauth = ReauthorisationRepository(session)
    renewals = []
    for customer_id in customers.lock_due_for_renewal(now, limit):
        new_expiry = wallets.renew_from_wallet(customer_id, now)
        command = reauth.queue_disconnect_if_online(customer_id, "auto-renewed")
        renewals.append(Renewal(customer_id, new_expiry, command))
    if renewals:
        log.info("auto-renewed %d customers from their wallets", len(renewals))
    return renewals


def unprocessed_callbacks(session: Session, now: datetime, grace: float = 30.0) -> list[int]:
    """Callbacks stored more than `grace` seconds ago and still PENDING."""
    return MpesaCallbackRepository(session).pending_ids(now - timedelta(seconds=grace), 200)
