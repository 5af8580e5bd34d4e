"""The Payments and Sessions lists over a real PostgreSQL: what the filter finds (whichever way
it is read: through the trigram indexes or by walking the ordered index), and that every
keyset page is an ordered index walk, never a sort (migration 0016)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.repositories import keyset
from easyisp_core.repositories.keyset import Listing, ListQuery
from easyisp_core.repositories.lists import PAYMENTS, SESSIONS
from tests.factories import make_customer, make_tenant

NAMES = ["Wanjiru Kamau", "Otieno Odhiambo", "Achieng Mwangi", "Kamau Njeri"]


@pytest.fixture
def tenant_id(session: Session, secret_box: SecretBox) -> uuid.UUID:
    """Four customers with 60 payments each and 240 sessions (a third of them open)."""
    tenant = make_tenant(session)
    for number, name in enumerate(NAMES):
        make_customer(
            session, secret_box, tenant, full_name=name, phone=f"07{number}0000{number}11"
        )
    session.execute(
        text(
            "INSERT INTO payments (tenant_id, customer_id, amount, method, status, "
            "transaction_id, phone, created_at) "
            "SELECT c.tenant_id, c.id, 10 + n, 'MPESA', 'PENDING', "
            "'TKR' || lpad(n::text, 3, '0') || upper(left(md5(c.id::text), 6)), "
            "'2547' || lpad((n * 7919 % 100000000)::text, 8, '0'), "
            "timestamptz '2026-11-01' + n * interval '1 hour' "
            "FROM customers c, generate_series(1, 60) n WHERE c.tenant_id = :t"
        ),
        {"t": tenant.id},
    )
    session.execute(
        text(
            "INSERT INTO sessions (tenant_id, customer_id, username, session_id, framed_ip, "
            "calling_station_id, started_at, stopped_at) "
            "SELECT c.tenant_id, c.id, c.username, 'S' || n, "
            "('10.0.' || (n % 7) || '.' || n)::inet, "
            "'0A:1B:2C:3D:' || lpad(to_hex(n), 2, '0') || ':' || lpad(to_hex(n % 16), 2, '0'), "
            "timestamptz '2026-11-01' + n * interval '1 hour', "
            "CASE WHEN n % 3 = 0 THEN NULL "
            "ELSE timestamptz '2026-11-01' + n * interval '1 hour' + interval '5 minutes' END "
            "FROM customers c, generate_series(1, 60) n WHERE c.tenant_id = :t"
        ),
        {"t": tenant.id},
    )
    return tenant.id


@pytest.fixture(params=["sampled", "sparse", "whole"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How the filter reads (the sample is made smaller than this small table):
    "sampled": common words are walked along the ordered index, rare ones collected through
    the trigram indexes; "sparse": every word through the trigram indexes; "whole": the
    sample covers the table (the count is exact, the rows are walked)."""
    if request.param != "whole":
        monkeypatch.setattr(keyset, "SAMPLE_ROWS", 40)
        monkeypatch.setattr(keyset, "DENSE_IN_SAMPLE", 4 if request.param == "sampled" else 41)
    return str(request.param)


def read_all(session: Session, listing: Listing[Any], query: ListQuery) -> tuple[list[Any], Any]:
    page = listing.first_page(session, query, limit=25)
    rows = list(page.rows)
    while len(rows) % 25 == 0 and rows:
        more = listing.next_page(session, query, rows[-1], limit=25, dense=page.dense)
        if not more:
            break
        rows.extend(more)
    return rows, page


PAYMENT_MATCH = (
    "(p.transaction_id ILIKE :w OR p.phone ILIKE :w OR c.full_name ILIKE :w OR c.username ILIKE :w)"
)


@pytest.mark.parametrize(
    "typed", ["kamau", "wanjiru kamau", "tkr01", "2547000", "otieno 25470", "zzz", "ka"]
)
@pytest.mark.parametrize("sort", ["created_at", "amount"])
def test_the_payments_filter_finds_the_same_payments_however_it_reads_them(
    session: Session, tenant_id: uuid.UUID, reading: str, typed: str, sort: str
) -> None:
    query = ListQuery(sort, True, typed, tenant_id)
    rows, page = read_all(session, PAYMENTS, query)
    words = typed.split()
    where = " AND ".join(PAYMENT_MATCH.replace(":w", f":w{i}") for i in range(len(words)))
    expected = session.scalars(
        text(
            f"SELECT p.id FROM payments p LEFT JOIN customers c ON c.id = p.customer_id "
            f"WHERE p.tenant_id = :t AND {where} ORDER BY p.{sort} DESC, p.id DESC"
        ),
        {"t": tenant_id, **{f"w{i}": f"%{w}%" for i, w in enumerate(words)}},
    ).all()
    assert [r.id for r in rows] == expected
    if page.count.exact:
        assert page.count.value == len(expected)
    if reading == "sampled" and typed in {"kamau", "zzz"}:
        # Half the payments match "kamau": walked, not collected; "zzz": collected.
        assert page.dense == (typed == "kamau")
    if reading == "sparse" and len(max(words, key=len)) >= 3:
        assert not page.dense


SESSION_MATCH = "(username ILIKE :w OR host(framed_ip) ILIKE :w OR calling_station_id ILIKE :w)"


@pytest.mark.parametrize("typed", ["10.0.3.", "0a:1b:2c:3d:1", "user", "10.0.3.45", "nobody"])
@pytest.mark.parametrize("active", [True, None], ids=["online", "all"])
def test_the_sessions_filter_finds_usernames_addresses_and_macs(
    session: Session, tenant_id: uuid.UUID, reading: str, typed: str, active: bool | None
) -> None:
    options = (("active", True),) if active else ()
    rows, _page = read_all(
        session, SESSIONS, ListQuery("started_at", True, typed, tenant_id, options)
    )
    open_only = "AND stopped_at IS NULL" if active else ""
    expected = session.scalars(
        text(
            f"SELECT id FROM sessions WHERE tenant_id = :t {open_only} AND "
            f"{SESSION_MATCH} ORDER BY started_at DESC, id DESC"
        ),
        {"t": tenant_id, "w": f"%{typed}%"},
    ).all()
    assert [r.id for r in rows] == expected
    if typed == "10.0.3.45":
        assert [r.framed_ip for r in rows] == ["10.0.3.45"] * len(NAMES)  # the host, no "/32"


def plan_nodes(session: Session, statement: Any) -> list[dict[str, Any]]:
    compiled = statement.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    plan = session.scalar(text(f"EXPLAIN (FORMAT JSON) {compiled}"))
    document = json.loads(plan) if isinstance(plan, str) else plan
    nodes: list[dict[str, Any]] = []
    stack = [document[0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("Plans", []))
    return nodes


def parent_indexes(session: Session, names: list[str]) -> set[str]:
    """The indexes named, each partition's index given as the partitioned table's index."""
    parents = session.scalars(
        text(
            "SELECT coalesce(parent.relname, child.relname) FROM pg_class child "
            "LEFT JOIN pg_inherits i ON i.inhrelid = child.oid "
            "LEFT JOIN pg_class parent ON parent.oid = i.inhparent "
            "WHERE child.relname = ANY(:names) AND child.relkind = 'i'"
        ),
        {"names": names},
    )
    return set(parents)


@pytest.mark.parametrize(
    ("listing", "sort", "options", "index"),
    [
        (PAYMENTS, "created_at", (), "ix_payments_tenant_id_created_at_id"),
        (PAYMENTS, "amount", (), "ix_payments_tenant_id_amount_id"),
        (SESSIONS, "started_at", (), "ix_sessions_tenant_id_started_at_id"),
        (SESSIONS, "username", (), "ix_sessions_tenant_id_username_id"),
        # Open sessions only: the partial indexes, not a walk over every session.
        (SESSIONS, "started_at", (("active", True),), "ix_sessions_open_tenant_id_started_at_id"),
        (SESSIONS, "username", (("active", True),), "ix_sessions_open_tenant_id_username_id"),
    ],
    ids=[
        "payments-date",
        "payments-amount",
        "sessions-start",
        "sessions-user",
        "online-start",
        "online-user",
    ],
)
@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
def test_every_keyset_page_is_an_index_walk_in_order_never_a_sort(
    session: Session,
    tenant_id: uuid.UUID,
    listing: Listing[Any],
    sort: str,
    options: tuple[tuple[str, Any], ...],
    index: str,
    descending: bool,
) -> None:
    """Plan shape, not time: with sequential scans and sorts priced out, a page can only be
    read without a Sort node if an index returns (sort column, id) in order for the tenant.
    Before 0016 the payments' next page and every sessions order sorted."""
    session.execute(text("SET LOCAL enable_seqscan = off"))
    session.execute(text("SET LOCAL enable_sort = off"))
    query = ListQuery(sort, descending, "", tenant_id, options)
    first = listing.first_page(session, query, limit=25)
    for after in (None, first.rows[-1]):
        nodes = plan_nodes(session, listing.page_statement(query, after, 25))
        kinds = [n["Node Type"] for n in nodes]
        assert not [k for k in kinds if "Sort" in k], kinds
        used = [n["Index Name"] for n in nodes if "Index Name" in n]
        assert index in parent_indexes(session, used), used
