"""A payment receipt as a PDF: the tenant's name and branding, receipt number, KES amount."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

from easyisp_core.services.customer_actions import Receipt
from easyisp_desktop.workspace.formatting import kes, moment


def receipt_html(receipt: Receipt) -> str:
    customer = receipt.customer
    payment = receipt.payment
    issuer = customer.branding_name or customer.tenant_name
    rows = [
        ("Receipt no.", receipt.number),
        ("Date", moment(payment.paid_at)),
        ("Customer", f"{customer.full_name} ({customer.account_number})"),
        ("Username", customer.username),
        ("Method", payment.method.capitalize()),
        ("Reference", payment.transaction_id or "—"),
        ("Amount", kes(payment.amount)),
        ("Wallet balance", kes(customer.wallet_balance)),
    ]
    table = "".join(
        f"<tr><td><b>{escape(label)}</b></td><td>{escape(value)}</td></tr>" for label, value in rows
    )
    contact = f"<p>Support: {escape(customer.support_phone)}</p>" if customer.support_phone else ""
    footer = f"<p><i>{escape(customer.receipt_footer)}</i></p>" if customer.receipt_footer else ""
    return (
        f"<h1 style='color: {escape(customer.brand_color)}'>{escape(issuer)}</h1>"
        "<h2>Payment receipt</h2>"
        f"<table cellpadding='6'>{table}</table>{contact}{footer}"
        "<p>Thank you for your payment.</p>"
    )


def write_receipt_pdf(receipt: Receipt, path: Path) -> Path:
    """Render the receipt to an A5 PDF at `path` (small work: done where it is asked for)."""
    writer = QPdfWriter(str(path))
    writer.setTitle(f"Receipt {receipt.number}")
    writer.setCreator("EasyISP")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A5),
            QPageLayout.Orientation.Portrait,
            QMarginsF(12, 12, 12, 12),
        )
    )
    document = QTextDocument()
    document.setHtml(receipt_html(receipt))
    document.print_(writer)
    del writer  # the file is complete once the writer is gone
    return path
