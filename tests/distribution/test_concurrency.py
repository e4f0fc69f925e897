"""Real concurrent transactions on PostgreSQL: settlement and withdrawals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from distribution.models import Commission, Distributor, LedgerEntry, Withdrawal
from distribution.services import (
    attribution_snapshot,
    commissions_create_for_order,
    commissions_settle_due,
    ledger_balance,
    withdrawal_request,
)
from mall.api.errors import ApplicationError
from tests.distribution import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _require_pg() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for real concurrent transactions")


def run_threads(count: int, fn: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(n: int) -> None:
        try:
            barrier.wait()
            results[n] = fn(n)
        except ApplicationError as exc:
            results[n] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_workers_settle_each_commission_once(tenant: Any, chain: dict) -> None:
    _require_pg()
    orders = []
    for _ in range(40):
        order = f.paid_order(
            tenant,
            chain["buyer"],
            [{"payable": "100.00"}, {"payable": "33.33"}],
            distribution=attribution_snapshot(tenant=tenant, member=chain["buyer"]),
        )
        commissions_create_for_order(order_id=order.pk)
        f.complete(order)
        orders.append(order)
    total = Commission.objects.count()
    assert total == 240

    results = run_threads(4, lambda _n: commissions_settle_due(batch_size=7).count)

    assert sum(results) == total  # every row settled by exactly one worker
    assert Commission.objects.filter(status="settled").count() == total
    assert LedgerEntry.objects.filter(kind="credit").count() == total
    for key in ("b", "c", "d"):
        d = Distributor.objects.get(pk=chain[key].pk)
        assert d.balance == ledger_balance(distributor=d) > 0
    # tier 1: 40 × (10.00 + 3.33)
    assert Distributor.objects.get(pk=chain["d"].pk).balance == Decimal("533.20")


def test_parallel_workers_settle_each_commission_once(tenant: Any, chain: dict) -> None:
    _require_pg()
    for _ in range(30):
        order = f.paid_order(
            tenant,
            chain["buyer"],
            [{"payable": "100.00"}, {"payable": "33.33"}],
            distribution=attribution_snapshot(tenant=tenant, member=chain["buyer"]),
        )
        commissions_create_for_order(order_id=order.pk)
        f.complete(order)

    result = commissions_settle_due(batch_size=5, workers=2)

    assert result.count == 180 == Commission.objects.filter(status="settled").count()
    assert LedgerEntry.objects.filter(kind="credit").count() == 180
    assert result.amount == Decimal("30") * (Decimal("13.33") + Decimal("6.67") + Decimal("2.67"))
    assert Distributor.objects.get(pk=chain["d"].pk).balance == Decimal("399.90")
    for key in ("b", "c", "d"):
        d = Distributor.objects.get(pk=chain[key].pk)
        assert d.balance == ledger_balance(distributor=d)
    assert commissions_settle_due(workers=2).count == 0


def test_concurrent_withdrawals_cannot_overdraw(tenant: Any, chain: dict) -> None:
    _require_pg()
    f.enable(tenant, withdrawal_daily_limit=Decimal("0"), withdrawal_min_amount=Decimal("1"))
    order = f.paid_order(
        tenant,
        chain["buyer"],
        [{"payable": "100.00"}],
        distribution=attribution_snapshot(tenant=tenant, member=chain["buyer"]),
    )
    commissions_create_for_order(order_id=order.pk)
    f.complete(order)
    commissions_settle_due()
    d = chain["d"]  # balance 10.00

    results = run_threads(
        8, lambda _n: withdrawal_request(tenant=tenant, member=d.member, amount=Decimal("3.00"))
    )

    ok = [r for r in results if isinstance(r, Withdrawal)]
    assert len(ok) == 3
    assert results.count("insufficient_balance") == 5
    d.refresh_from_db()
    assert d.balance == Decimal("1.00") == ledger_balance(distributor=d)
