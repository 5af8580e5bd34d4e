"""The fast path's in-memory view of subscribers (with their packages) and tenant policies,
so a normal Access-Request is decided without a database round trip.

Loaded at start and kept current by LISTEN on `easyisp_subscribers` (triggers of migrations
0007 and 0017): LISTEN first, then the full load, so no change between the two is missed;
each notification reloads the one customer, the customers of one package, a whole tenant,
or one tenant's policy (tenants.config). A console change is visible in milliseconds (well
within one second). Every input of the decision is covered: customers (password, status,
expiry, package, MAC binding, static IP, connection type), packages, tenants' settings and
open sessions come through here; routers through `on_nas_change` (the listener re-reads
its client table); vouchers and MAC logins are always decided by the database.

Safe fallback: while the listening connection is down (or before the first load finished)
`healthy` is False and every lookup answers "ask the database"; on reconnect the cache
reloads everything before it answers again, since notifications sent meanwhile are lost.
A username the cache does not know may be a voucher: the caller asks the database.

Simultaneous use: `may_be_online` says whether a username has (or may have) a session not
stopped; only then does the caller count open sessions in the database. The set is loaded
at start and grows with every session opening (a NOTIFY from the sessions insert trigger);
it shrinks only when the database says 0, so it never under-counts.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.repositories.radius import SubscriberChangeFeed
from easyisp_core.rules.radius_auth import TenantPolicy
from easyisp_core.services.radius_auth import (
    SubscriberAccount,
    load_subscribers,
    tenant_policies,
    usernames_online,
)

log = logging.getLogger(__name__)

RECONNECT_DELAY = 1.0
_WAIT = 0.5

Key = tuple[uuid.UUID, str]  # (tenant, username)


@dataclass(frozen=True, slots=True)
class CacheAnswer:
    """`known` False: the cache cannot say, ask the database. Else `account` is the
    subscriber, or None when no subscriber has that name (it may be a voucher)."""

    known: bool
    account: SubscriberAccount | None = None


UNKNOWN = CacheAnswer(False)


class SubscriberCache:
    """Thread-safe reads (whole entries are swapped, never edited in place)."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        *,
        on_nas_change: Callable[[], None] | None = None,
        reconnect_delay: float = RECONNECT_DELAY,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._on_nas_change = on_nas_change
        self._reconnect_delay = reconnect_delay
        self._accounts: dict[Key, SubscriberAccount] = {}
        self._keys: dict[uuid.UUID, Key] = {}  # customer id → its key (a rename moves it)
        self._policies: dict[uuid.UUID, TenantPolicy] = {}
        self._online: set[Key] = set()
        self._online_generation = 0
        self._lock = threading.Lock()  # writers only
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._feed: SubscriberChangeFeed | None = None
        self.healthy = False
        self.loaded = threading.Event()  # set after each full (re)load
        self.changes_applied = 0

    # --- lifetime ---------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="subscriber-cache", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def disconnect(self) -> None:
        """Drop the listening connection (as a network failure would); it reconnects."""
        feed = self._feed
        if feed is not None:
            self.healthy = False
            feed.close()

    # --- reads (any thread) -----------------------------------------------------------

    def subscriber(self, tenant_id: uuid.UUID, username: str) -> CacheAnswer:
        if not self.healthy:
            return UNKNOWN
        return CacheAnswer(True, self._accounts.get((tenant_id, username)))

    def policy(self, tenant_id: uuid.UUID) -> TenantPolicy | None:
        return self._policies.get(tenant_id) if self.healthy else None

    def online_generation(self) -> int:
        return self._online_generation

    def may_be_online(self, tenant_id: uuid.UUID, username: str) -> bool:
        return (tenant_id, username) in self._online

    def saw_no_sessions(self, tenant_id: uuid.UUID, username: str, generation: int) -> None:
        """The database counted 0 open sessions (query started at `generation`): forget the
        username unless a session opened since, which the count may have missed."""
        with self._lock:
            if self._online_generation == generation:
                self._online.discard((tenant_id, username))

    def __len__(self) -> int:
        return len(self._accounts)

    # --- the listener thread ----------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._feed = SubscriberChangeFeed(self._engine)
                self._reload_all()
                self.healthy = True
                self.loaded.set()
                log.info("subscriber cache loaded: %d subscribers", len(self._accounts))
                self._follow(self._feed)
            except Exception:
                if not self._stop.is_set():
                    log.warning("subscriber cache lost its database connection", exc_info=True)
            finally:
                self.healthy = False
                if self._feed is not None:
                    try:
                        self._feed.close()
                    except Exception:
                        log.debug("closing the change feed failed", exc_info=True)
                    self._feed = None
            self._stop.wait(self._reconnect_delay)

    def _follow(self, feed: SubscriberChangeFeed) -> None:
        while not self._stop.is_set():
            for change in feed.changes(_WAIT):
                self._apply(change)
                self.changes_applied += 1

    def _reload_all(self) -> None:
        with self._sessions() as session:
            policies = tenant_policies(session)
            accounts = load_subscribers(session)
            online = usernames_online(session)
        with self._lock:
            self._policies = policies
            self._accounts = {(t, a.view.username): a for t, a in accounts}
            self._keys = {a.customer_id: (t, a.view.username) for t, a in accounts}
            self._online = online
            self._online_generation += 1

    def _apply(self, change: dict[str, Any]) -> None:
        table = change.get("table")
        tenant = _uuid(change.get("tenant"))
        if table == "nas":
            if self._on_nas_change is not None:
                self._on_nas_change()
            return
        if table == "sessions":
            self._session_opened(tenant, change.get("username"))
            return
        if table == "tenants":
            if tenant is not None:
                self._tenant_changed(tenant)
            return
        if tenant is None or table not in ("customers", "packages"):
            return  # vouchers are always read from the database
        row_id = _uuid(change.get("id"))
        with self._sessions() as session:
            if row_id is None:
                fresh = load_subscribers(session, tenant_id=tenant)
                self._replace_tenant(tenant, fresh)
            elif table == "customers":
                fresh = load_subscribers(session, customer_id=row_id)
                self._replace_customer(row_id, fresh)
            else:
                for _tenant, account in load_subscribers(session, package_id=row_id):
                    self._put(tenant, account)

    def _tenant_changed(self, tenant: uuid.UUID) -> None:
        """Its config changed (or it was created or deleted): re-read its policy only."""
        with self._sessions() as session:
            policy = tenant_policies(session, tenant_id=tenant).get(tenant)
        with self._lock:  # a new dict, swapped whole: readers never see it half-built
            policies = dict(self._policies)
            if policy is None:
                policies.pop(tenant, None)
            else:
                policies[tenant] = policy
            self._policies = policies

    def _session_opened(self, tenant: uuid.UUID | None, username: Any) -> None:
        with self._lock:
            self._online_generation += 1
            if tenant is not None and isinstance(username, str):
                self._online.add((tenant, username))
                return
        if tenant is not None:  # a bulk insert: reload who may be online in that tenant
            with self._sessions() as session:
                online = usernames_online(session, tenant_id=tenant)
            with self._lock:
                self._online |= online

    def _put(self, tenant: uuid.UUID, account: SubscriberAccount) -> None:
        with self._lock:
            key = (tenant, account.view.username)
            old = self._keys.get(account.customer_id)
            if old is not None and old != key:
                self._accounts.pop(old, None)
            self._accounts[key] = account
            self._keys[account.customer_id] = key

    def _replace_customer(
        self, customer_id: uuid.UUID, fresh: list[tuple[uuid.UUID, SubscriberAccount]]
    ) -> None:
        if fresh:
            self._put(*fresh[0])
            return
        with self._lock:  # deleted
            old = self._keys.pop(customer_id, None)
            if old is not None:
                self._accounts.pop(old, None)

    def _replace_tenant(
        self, tenant: uuid.UUID, fresh: list[tuple[uuid.UUID, SubscriberAccount]]
    ) -> None:
        with self._lock:
            accounts = {k: a for k, a in self._accounts.items() if k[0] != tenant}
            accounts.update({(t, a.view.username): a for t, a in fresh})
            self._accounts = accounts
            self._keys = {a.customer_id: k for k, a in accounts.items()}


def _uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
