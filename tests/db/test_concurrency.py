"""Two front-desk PCs acting on the same customer at once: the database serialises them."""

from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy.orm import sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.errors import ValidationFailed
from easyisp_core.repositories.customers import CustomerRepository
from easyisp_core.services.payments import record_payment, renew_from_wallet
from easyisp_core.services.tenants import create_tenant
from tests.factories import make_customer, make_package


def test_two_racing_renewals_with_money_for_one_renew_exactly_once(
    fresh_db_url: str, secret_box: SecretBox
) -> None:
    engine = make_engine(fresh_db_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    try:
        with session_scope(factory) as session:
            tenant = create_tenant(session, {"name": "race", "display_name": "Race"})
            package = make_package(session, tenant, price=Decimal("1000"))
            customer = make_customer(session, secret_box, tenant, package=package.name)
            record_payment(
                session,
                {"tenant": "race", "customer": customer.username, "amount": 1000, "method": "CASH"},
            )

        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def renew() -> None:
            barrier.wait()
            try:
                with session_scope(factory) as session:
                    renew_from_wallet(session, "race", customer.username)
                outcomes.append("renewed")
            except ValidationFailed:
                outcomes.append("refused")

        threads = [threading.Thread(target=renew) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(outcomes) == ["refused", "renewed"]
        with session_scope(factory) as session:
            stored = CustomerRepository(session).get(tenant.id, customer.id)
            assert stored.wallet_balance == Decimal("0.00")
    finally:
        engine.dispose()
