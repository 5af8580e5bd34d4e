"""An Accounting-Request's attributes as an AccountingRecord (plain data for the writers and
the journal); UnusableRecord when the request cannot be stored at all."""

from __future__ import annotations

import socket
from datetime import datetime

from easyisp_core.services.accounting import AccountingRecord, StatusType
from easyisp_core.services.radius_auth import NasClient
from radius_service.radius.acct_codec import (
    ACCT_DELAY_TIME,
    ACCT_INPUT_GIGAWORDS,
    ACCT_INPUT_OCTETS,
    ACCT_INPUT_PACKETS,
    ACCT_OUTPUT_GIGAWORDS,
    ACCT_OUTPUT_OCTETS,
    ACCT_OUTPUT_PACKETS,
    ACCT_SESSION_ID,
    ACCT_SESSION_TIME,
    ACCT_STATUS_TYPE,
    ACCT_TERMINATE_CAUSE,
    CALLED_STATION_ID,
    CALLING_STATION_ID,
    CLASS,
    FRAMED_IP_ADDRESS,
    FRAMED_PROTOCOL,
    NAS_PORT_ID,
    SERVICE_TYPE,
    USER_NAME,
    AcctRequest,
)

_TEXT_LIMIT = 64
_CAUSE_LIMIT = 40
# RFC 2866 §5.10 (the names our dictionary gives them).
TERMINATE_CAUSES = {
    1: "User-Request", 2: "Lost-Carrier", 3: "Lost-Service", 4: "Idle-Timeout",
    5: "Session-Timeout", 6: "Admin-Reset", 7: "Admin-Reboot", 8: "Port-Error",
    9: "NAS-Error", 10: "NAS-Request", 11: "NAS-Reboot", 12: "Port-Unneeded",
    13: "Port-Preempted", 14: "Port-Suspended", 15: "Service-Unavailable", 16: "Callback",
    17: "User-Error", 18: "Host-Request",
}  # fmt: skip
_STATUS_NUMBERS = {
    1: "Start",
    2: "Stop",
    3: "Interim-Update",
    7: "Accounting-On",
    8: "Accounting-Off",
}


class UnusableRecord(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _number(request: AcctRequest, kind: int) -> int:
    return request.integer(kind) or 0


def _printable(value: str) -> str:
    # PostgreSQL text cannot hold NUL: a record carrying one could never be stored, so its
    # router would retransmit it unanswered until it gave up. NUL is shown like any other
    # byte that is not text (undecodable UTF-8 reads as U+FFFD too).
    return value.replace("\x00", "\ufffd")


def _text(request: AcctRequest, kind: int) -> str | None:
    value = request.text(kind)
    return None if value is None else _printable(value[:_TEXT_LIMIT])


def read_record(request: AcctRequest, client: NasClient, received_at: datetime) -> AccountingRecord:
    """The record an Accounting-Request carries; UnusableRecord when it cannot be stored."""
    try:
        status = StatusType(_STATUS_NUMBERS.get(request.integer(ACCT_STATUS_TYPE) or 0, ""))
    except ValueError:
        raise UnusableRecord("unsupported status type") from None
    session_id = _text(request, ACCT_SESSION_ID) or ""
    if not session_id and status not in (StatusType.ACCOUNTING_ON, StatusType.ACCOUNTING_OFF):
        raise UnusableRecord("no session id")
    address = request.values.get(FRAMED_IP_ADDRESS)
    cause = request.integer(ACCT_TERMINATE_CAUSE)
    class_value = request.values.get(CLASS)
    ppp = request.integer(FRAMED_PROTOCOL) == 1 or request.integer(SERVICE_TYPE) == 2  # PPP
    return AccountingRecord(
        tenant_id=client.tenant_id,
        nas_id=client.nas_id,
        status=status,
        received_at=received_at,
        session_id=session_id,
        username=_text(request, USER_NAME) or "",
        delay=_number(request, ACCT_DELAY_TIME),
        session_time=_number(request, ACCT_SESSION_TIME),
        input_octets=(_number(request, ACCT_INPUT_GIGAWORDS) << 32)
        + _number(request, ACCT_INPUT_OCTETS),
        output_octets=(_number(request, ACCT_OUTPUT_GIGAWORDS) << 32)
        + _number(request, ACCT_OUTPUT_OCTETS),
        input_packets=_number(request, ACCT_INPUT_PACKETS),
        output_packets=_number(request, ACCT_OUTPUT_PACKETS),
        framed_ip=None if address is None else socket.inet_ntoa(address),
        calling_station_id=_text(request, CALLING_STATION_ID),
        called_station_id=_text(request, CALLED_STATION_ID),
        nas_port_id=_text(request, NAS_PORT_ID),
        service_type="PPPOE" if ppp else "HOTSPOT",
        terminate_cause=None
        if cause is None
        else TERMINATE_CAUSES.get(cause, str(cause))[:_CAUSE_LIMIT],
        class_value=None
        if class_value is None
        else _printable(class_value.decode("utf-8", "replace")[:_TEXT_LIMIT]),
    )
