"""A payment receipt, printed or saved as a PDF: the tenant's name and branding, receipt
number, KES amount. Laid out for the paper it goes on: A5, or the 58/80 mm roll of the
thermal printers most front desks use (chosen in the print dialog, detected by width)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import (
    QFont,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrinter

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


# Paper at most this wide (millimetres) is a receipt roll: narrow margins, small type.
ROLL_MAX_WIDTH_MM = 90.0
A5_LAYOUT = QPageLayout(
    QPageSize(QPageSize.PageSizeId.A5), QPageLayout.Orientation.Portrait, QMarginsF(12, 12, 12, 12)
)
ROLL_80MM_LAYOUT = QPageLayout(
    QPageSize(QSizeF(80, 200), QPageSize.Unit.Millimeter, "Receipt roll 80 mm"),
    QPageLayout.Orientation.Portrait,
    QMarginsF(3, 3, 3, 3),
)


def is_roll(device: QPagedPaintDevice) -> bool:
    width = device.pageLayout().fullRect(QPageLayout.Unit.Millimeter).width()
    return width <= ROLL_MAX_WIDTH_MM


def render_receipt(receipt: Receipt, device: QPagedPaintDevice) -> None:
    """Lay the receipt out on `device` (a printer or a PDF writer) as its paper allows."""
    roll = is_roll(device)
    if roll:
        device.setPageMargins(QMarginsF(3, 3, 3, 3), QPageLayout.Unit.Millimeter)
    document = QTextDocument()
    font = QFont()
    font.setPointSizeF(7.5 if roll else 10.0)
    document.setDefaultFont(font)
    document.setHtml(receipt_html(receipt))
    document.print_(device)


def write_receipt_pdf(receipt: Receipt, path: Path, layout: QPageLayout = A5_LAYOUT) -> Path:
    """Render the receipt to a PDF at `path` (small work: done where it is asked for)."""
    writer = QPdfWriter(str(path))
    writer.setTitle(f"Receipt {receipt.number}")
    writer.setCreator("EasyISP")
    writer.setPageLayout(layout)
    render_receipt(receipt, writer)
    del writer  # the file is complete once the writer is gone
    return path


def print_receipt(receipt: Receipt, printer: QPrinter) -> None:
    """Print on the printer (and paper) the operator chose in the print dialog."""
    printer.setDocName(f"Receipt {receipt.number}")
    printer.setCreator("EasyISP")
    render_receipt(receipt, printer)
