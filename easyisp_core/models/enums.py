"""The seed's enumerations, stored as PostgreSQL enum types."""

from __future__ import annotations

import enum


class TenantStatus(enum.StrEnum):
    TRIAL = "TRIAL"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"


class StaffRole(enum.StrEnum):
    SUPER_ADMIN = "SUPER_ADMIN"
    ADMIN = "ADMIN"
    STAFF = "STAFF"
    CUSTOMER_CARE = "CUSTOMER_CARE"
    FIELD_TECH = "FIELD_TECH"
    VIEWER = "VIEWER"


class UserStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    DELETED = "DELETED"


class NasStatus(enum.StrEnum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"
    PENDING = "PENDING"


class VpnPeerStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class ConnectionType(enum.StrEnum):
    PPPOE = "PPPOE"
    HOTSPOT = "HOTSPOT"
    DHCP = "DHCP"
    STATIC = "STATIC"


class CustomerStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"


class PackageType(enum.StrEnum):
    PPPOE = "PPPOE"
    HOTSPOT = "HOTSPOT"


class ValidityUnit(enum.StrEnum):
    MINUTES = "MINUTES"
    HOURS = "HOURS"
    DAYS = "DAYS"
    WEEKS = "WEEKS"
    MONTHS = "MONTHS"


class VoucherStatus(enum.StrEnum):
    AVAILABLE = "AVAILABLE"
    USED = "USED"
    EXPIRED = "EXPIRED"
    # Cancelled before use (a lost or stolen printed card); RADIUS refuses it.
    VOIDED = "VOIDED"


class PaymentMethod(enum.StrEnum):
    MPESA = "MPESA"
    CASH = "CASH"
    BANK = "BANK"
    CARD = "CARD"


class PaymentStatus(enum.StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    # Added beyond the seed: a refund keeps the original row and marks it, never deletes it.
    REFUNDED = "REFUNDED"


class InvoiceStatus(enum.StrEnum):
    # The seed spells these in lower case; kept as-is.
    PENDING = "pending"
    PAID = "paid"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"


class AccountType(enum.StrEnum):
    ASSET = "ASSET"
    LIABILITY = "LIABILITY"
    EQUITY = "EQUITY"
    REVENUE = "REVENUE"
    EXPENSE = "EXPENSE"


class SmsStatus(enum.StrEnum):
    # QUEUED added beyond the seed: a message is logged before the gateway is called.
    QUEUED = "QUEUED"
    SENT = "SENT"
    FAILED = "FAILED"
    DELIVERED = "DELIVERED"


class HotspotPaymentStatus(enum.StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


class GatewayPurpose(enum.StrEnum):
    """Which flow a gateway serves; the seed allows separate hotspot and PPPoE configs."""

    ALL = "ALL"
    HOTSPOT = "HOTSPOT"
    PPPOE = "PPPOE"


class PaymentProvider(enum.StrEnum):
    MPESA_PAYBILL = "MPESA_PAYBILL"
    MPESA_TILL = "MPESA_TILL"


class SmsProvider(enum.StrEnum):
    AFRICASTALKING = "AFRICASTALKING"
    ADVANTA = "ADVANTA"
    CELCOM = "CELCOM"
    ONFON = "ONFON"


class WalletEntryKind(enum.StrEnum):
    TOPUP = "TOPUP"
    PACKAGE_PURCHASE = "PACKAGE_PURCHASE"
    REFUND = "REFUND"
    ADJUSTMENT = "ADJUSTMENT"


class ServiceCommandKind(enum.StrEnum):
    DISCONNECT = "DISCONNECT"
    CHANGE_RATE_LIMIT = "CHANGE_RATE_LIMIT"
    ROUTER_SYNC = "ROUTER_SYNC"
    ROUTER_TEST = "ROUTER_TEST"


class ServiceCommandStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class AuditTargetType(enum.StrEnum):
    TENANT = "TENANT"
    USER = "USER"
    CUSTOMER = "CUSTOMER"
    PACKAGE = "PACKAGE"
    NAS = "NAS"
    VOUCHER = "VOUCHER"
    PAYMENT = "PAYMENT"
    INVOICE = "INVOICE"
    EXPENSE = "EXPENSE"
    PAYMENT_GATEWAY = "PAYMENT_GATEWAY"
    SMS_GATEWAY = "SMS_GATEWAY"
    VPN_PEER = "VPN_PEER"
    ACCOUNT = "ACCOUNT"
    OTHER = "OTHER"


class MpesaCallbackKind(enum.StrEnum):
    STK = "STK"
    C2B_VALIDATION = "C2B_VALIDATION"
    C2B_CONFIRMATION = "C2B_CONFIRMATION"
    # Transaction Status answers: at the ResultURL, or at the QueueTimeOutURL.
    STATUS_RESULT = "STATUS_RESULT"
    STATUS_TIMEOUT = "STATUS_TIMEOUT"


class StatusQueryState(enum.StrEnum):
    """Where a Transaction Status question about a receipt we do not hold stands."""

    QUEUED = "QUEUED"  # asked for; the site service has not sent it yet
    SENT = "SENT"  # Daraja accepted it; the answer comes to the ResultURL
    CREDITED = "CREDITED"  # confirmed and credited (or found credited already)
    REVIEW = "REVIEW"  # M-Pesa answered, but it cannot be credited as asked: see result
    NOT_FOUND = "NOT_FOUND"  # M-Pesa does not know the receipt
    TIMEOUT = "TIMEOUT"  # the answer timed out in Daraja's queue (QueueTimeOutURL)
    FAILED = "FAILED"  # Daraja refused the question, or the gateway cannot ask it


class MpesaCallbackOutcome(enum.StrEnum):
    """What processing made of a stored callback."""

    PENDING = "PENDING"  # stored, not processed yet
    APPLIED = "APPLIED"  # money credited, or a failure recorded on its pending request
    REVIEW = "REVIEW"  # suspicious or not matching: no balance changed, staff look at it
    IGNORED = "IGNORED"  # a duplicate delivery, or a receipt already credited by another route
    SUSPENSE = "SUSPENSE"  # money received for no known customer: in mpesa_suspense


class SuspenseStatus(enum.StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"
