"""Typed models, one module per entity. Importing this package registers every table."""

from easyisp_core.models.account import ChartOfAccount
from easyisp_core.models.audit_log import AuditLog
from easyisp_core.models.base import Base
from easyisp_core.models.customer import Customer
from easyisp_core.models.expense import Expense
from easyisp_core.models.gateways import PaymentGateway, SmsGateway
from easyisp_core.models.invoice import Invoice
from easyisp_core.models.mpesa_callback import MpesaCallback, MpesaSuspense
from easyisp_core.models.mpesa_status_query import MpesaStatusQuery
from easyisp_core.models.nas import Nas
from easyisp_core.models.package import Package
from easyisp_core.models.payment import Payment, WalletTransaction
from easyisp_core.models.pending_hotspot_payment import PendingHotspotPayment
from easyisp_core.models.permission import Permission, RolePermission
from easyisp_core.models.router_group import RouterGroup
from easyisp_core.models.service import ServiceCommand, ServiceHeartbeat, TenantCounter
from easyisp_core.models.session import Session
from easyisp_core.models.sms_log import SmsLog
from easyisp_core.models.tenant import Tenant
from easyisp_core.models.user import User
from easyisp_core.models.voucher import Voucher, VoucherBatch
from easyisp_core.models.vpn_peer import VpnPeer
from easyisp_core.models.vpn_site import VpnSite

__all__ = [
    "AuditLog",
    "Base",
    "ChartOfAccount",
    "Customer",
    "Expense",
    "Invoice",
    "MpesaCallback",
    "MpesaStatusQuery",
    "MpesaSuspense",
    "Nas",
    "Package",
    "Payment",
    "PaymentGateway",
    "PendingHotspotPayment",
    "Permission",
    "RolePermission",
    "RouterGroup",
    "ServiceCommand",
    "ServiceHeartbeat",
    "Session",
    "SmsGateway",
    "SmsLog",
    "Tenant",
    "TenantCounter",
    "User",
    "Voucher",
    "VoucherBatch",
    "VpnPeer",
    "VpnSite",
    "WalletTransaction",
]
