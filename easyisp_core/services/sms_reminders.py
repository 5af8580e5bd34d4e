"""Queueing "your internet expires soon" SMS: once per customer and expiry, N hours ahead
(tenant setting sms.expiry_reminder_hours; 0 turns reminders off)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from easyisp_core.repositories.sms_reminders import SmsReminderRepository
from easyisp_core.rules.sms_text import brand_of, expiry_reminder
from easyisp_core.schemas.tenant_config import TenantConfig

PER_TENANT_LIMIT = 500  # per sweep; the next sweep takes the rest


def queue_expiry_reminders(session: Session, now: datetime) -> int:
    """Queue every reminder due now; the number queued."""
    repo = SmsReminderRepository(session)
    repo.lock_sweep()
    queued = 0
    for tenant in repo.tenants_with_sms():
        config = TenantConfig.model_validate(tenant.config)
        if config.sms.expiry_reminder_hours <= 0:
            continue
        window = timedelta(hours=config.sms.expiry_reminder_hours)
        due = repo.due(tenant.id, now, window, PER_TENANT_LIMIT)
        if not due:
            continue
        zone = ZoneInfo(config.timezone)
        paybill = repo.paybill(tenant.id)
        for reminder in due:
            message = expiry_reminder(
                brand=brand_of(config.branding.display_name, tenant.display_name),
                expires_local=reminder.expires_at.astimezone(zone),
                account=reminder.account_number,
                currency=config.currency,
                price=reminder.price,
                paybill=paybill,
                support_phone=config.branding.support_phone,
            )
            repo.queue(tenant.id, reminder, message)
            queued += 1
    return queued
