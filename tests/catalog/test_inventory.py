from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.inventory import (
    stock_adjust,
    stock_deduct,
    stock_release,
    stock_reserve,
    stock_restock,
    stock_set,
)
from catalog.models import Sku, StockMovement
from mall.api.errors import ApplicationError, status_for
from mall.events.models import OutboxEvent
from tests.catalog.factories import ProductFactory, SkuFactory


@pytest.fixture
def sku(tenant: Any) -> Sku:
    return SkuFactory(product=ProductFactory(tenant=tenant), stock=10)


def _stock(sku: Sku) -> int:
    return Sku.objects.get(pk=sku.pk).stock


def test_reserve_moves_stock_and_writes_movement(tenant: Any, sku: Sku) -> None:
    [movement] = stock_reserve(tenant=tenant, lines=[(sku.pk, 3)], reference="ORD-1")

    assert _stock(sku) == 7
    assert (movement.reason, movement.quantity, movement.stock_after) == ("reserve", -3, 7)
    assert Sku.objects.get(pk=sku.pk).version == sku.version + 1


def test_reserve_beyond_stock_is_out_of_stock_with_details(tenant: Any, sku: Sku) -> None:
    with pytest.raises(ApplicationError) as exc:
        stock_reserve(tenant=tenant, lines=[(sku.pk, 11)], reference="ORD-1")

    assert exc.value.code == "out_of_stock" and status_for(exc.value) == 409
    assert exc.value.details == {"sku_id": sku.pk, "requested": 11, "available": 10}
    assert _stock(sku) == 10
    assert not StockMovement.objects.exists()


def test_multi_sku_reservation_is_all_or_nothing(tenant: Any, sku: Sku) -> None:
    short = SkuFactory(product=sku.product, stock=1)

    with pytest.raises(ApplicationError):
        stock_reserve(tenant=tenant, lines={sku.pk: 2, short.pk: 2}, reference="ORD-2")

    assert (_stock(sku), _stock(short)) == (10, 1)
    assert not StockMovement.objects.exists()


def test_multi_sku_shortage_names_every_short_sku(tenant: Any, sku: Sku) -> None:
    short_a = SkuFactory(product=sku.product, stock=1)
    short_b = SkuFactory(product=sku.product, stock=0)

    with pytest.raises(ApplicationError) as exc:
        stock_reserve(
            tenant=tenant, lines=[(short_b.pk, 1), (sku.pk, 2), (short_a.pk, 3)], reference="O"
        )

    assert exc.value.code == "out_of_stock" and status_for(exc.value) == 409
    assert exc.value.details["skus"] == [
        {"sku_id": short_a.pk, "requested": 3, "available": 1},
        {"sku_id": short_b.pk, "requested": 1, "available": 0},
    ]
    assert exc.value.details["sku_id"] == short_a.pk
    assert (_stock(sku), _stock(short_a), _stock(short_b)) == (10, 1, 0)
    assert not StockMovement.objects.exists()


def test_a_caught_shortage_leaves_the_callers_transaction_usable(tenant: Any, sku: Sku) -> None:
    other = SkuFactory(product=sku.product, stock=5)
    with transaction.atomic():
        with pytest.raises(ApplicationError):
            stock_reserve(tenant=tenant, lines={sku.pk: 1, other.pk: 6}, reference="A")
        # Nothing was written, so the caller can go on in the same transaction.
        stock_reserve(tenant=tenant, lines={sku.pk: 1, other.pk: 5}, reference="B")

    assert (_stock(sku), _stock(other)) == (9, 0)
    assert set(StockMovement.objects.values_list("reference", flat=True)) == {"B"}


def test_multi_sku_reservation_moves_each_sku_with_its_own_ledger_row(
    tenant: Any, sku: Sku
) -> None:
    other = SkuFactory(product=ProductFactory(tenant=tenant), stock=4)

    movements = stock_reserve(
        tenant=tenant, lines=[(other.pk, 1), (sku.pk, 2), (other.pk, 2)], reference="ORD-M"
    )

    assert [(m.sku_id, m.quantity, m.stock_after, m.replayed) for m in movements] == sorted(
        [(sku.pk, -2, 8, False), (other.pk, -3, 1, False)]
    )
    assert all(m.pk for m in movements)
    assert (_stock(sku), _stock(other)) == (8, 1)
    versions = dict(Sku.objects.values_list("pk", "version"))
    assert versions == {sku.pk: sku.version + 1, other.pk: other.version + 1}


def test_reserve_takes_the_same_few_queries_whatever_the_line_count(tenant: Any, sku: Sku) -> None:
    def queries(count: int, reference: str) -> int:
        skus = [SkuFactory(product=sku.product, stock=5) for _ in range(count)]
        with CaptureQueriesContext(connection) as ctx, transaction.atomic():
            stock_reserve(tenant=tenant, lines=[(s.pk, 1) for s in skus], reference=reference)
        return len(ctx.captured_queries)

    # lock (SELECT ... FOR UPDATE), guarded UPDATE, ledger INSERT (+ savepoint pair).
    assert queries(2, "Q2") == queries(8, "Q8") <= 5


def test_a_repeat_is_replayed_even_when_the_stock_is_gone_now(tenant: Any, sku: Sku) -> None:
    other = SkuFactory(product=sku.product, stock=3)
    first = stock_reserve(tenant=tenant, lines={sku.pk: 10, other.pk: 1}, reference="ORD-R")

    again = stock_reserve(tenant=tenant, lines={sku.pk: 10, other.pk: 1}, reference="ORD-R")

    assert [m.pk for m in again] == [m.pk for m in first]
    assert all(m.replayed for m in again)
    assert (_stock(sku), _stock(other)) == (0, 2)
    assert StockMovement.objects.count() == 2


def test_a_partial_repeat_moves_only_the_new_skus(tenant: Any, sku: Sku) -> None:
    other = SkuFactory(product=sku.product, stock=3)
    [first] = stock_restock(tenant=tenant, lines={sku.pk: 2}, reference="RMA-9")

    both = stock_restock(tenant=tenant, lines={sku.pk: 2, other.pk: 1}, reference="RMA-9")

    by_sku = {m.sku_id: m for m in both}
    assert by_sku[sku.pk].pk == first.pk and by_sku[sku.pk].replayed is True
    assert by_sku[other.pk].replayed is False and by_sku[other.pk].stock_after == 4
    assert (_stock(sku), _stock(other)) == (12, 4)


def test_release_of_a_multi_sku_reservation_gives_back_each_line(tenant: Any, sku: Sku) -> None:
    other = SkuFactory(product=sku.product, stock=3)
    stock_reserve(tenant=tenant, lines={sku.pk: 4, other.pk: 3}, reference="ORD-L")

    released = stock_release(tenant=tenant, reference="ORD-L", note="cancelled")
    again = stock_release(tenant=tenant, reference="ORD-L")

    assert [(m.sku_id, m.quantity, m.note) for m in released] == [
        (sku.pk, 4, "cancelled"),
        (other.pk, 3, "cancelled"),
    ]
    assert [m.pk for m in again] == [m.pk for m in released] and again[0].replayed
    assert (_stock(sku), _stock(other)) == (10, 3)


def test_repeated_reservation_with_same_reference_moves_once(tenant: Any, sku: Sku) -> None:
    stock_reserve(tenant=tenant, lines=[(sku.pk, 2)], reference="ORD-3")
    [again] = stock_reserve(tenant=tenant, lines=[(sku.pk, 2)], reference="ORD-3")

    assert again.replayed is True
    assert _stock(sku) == 8
    assert StockMovement.objects.count() == 1


def test_release_gives_back_the_reservation_once(tenant: Any, sku: Sku) -> None:
    stock_reserve(tenant=tenant, lines=[(sku.pk, 4)], reference="ORD-4")

    stock_release(tenant=tenant, reference="ORD-4")
    stock_release(tenant=tenant, reference="ORD-4")

    assert _stock(sku) == 10
    reasons = list(StockMovement.objects.order_by("id").values_list("reason", "quantity"))
    assert reasons == [("reserve", -4), ("release", 4)]


def test_release_of_unknown_reference_is_refused(tenant: Any, sku: Sku) -> None:
    with pytest.raises(ApplicationError) as exc:
        stock_release(tenant=tenant, reference="NOPE")
    assert exc.value.code == "nothing_to_release"


def test_deduct_restock_adjust(tenant: Any, sku: Sku) -> None:
    stock_deduct(tenant=tenant, lines=[(sku.pk, 5)], reference="POS-1")
    stock_restock(tenant=tenant, lines=[(sku.pk, 2)], reference="RMA-1")
    stock_adjust(tenant=tenant, sku_id=sku.pk, delta=-1, note="damaged")

    assert _stock(sku) == 6
    assert list(StockMovement.objects.order_by("id").values_list("stock_after", flat=True)) == [
        5,
        7,
        6,
    ]
    with pytest.raises(ApplicationError) as exc:
        stock_adjust(tenant=tenant, sku_id=sku.pk, delta=-7, note="too many")
    assert exc.value.code == "out_of_stock"
    assert _stock(sku) == 6


def test_invalid_quantities_are_refused(tenant: Any, sku: Sku) -> None:
    for quantity in (0, -1, 1.5, True):
        with pytest.raises(ApplicationError) as exc:
            stock_reserve(tenant=tenant, lines=[(sku.pk, quantity)], reference="X")
        assert status_for(exc.value) == 400


def test_other_tenants_sku_is_not_found(other_tenant: Any, sku: Sku) -> None:
    with pytest.raises(ApplicationError) as exc:
        stock_reserve(tenant=other_tenant, lines=[(sku.pk, 1)], reference="ORD-X")
    assert status_for(exc.value) == 404
    assert _stock(sku) == 10


def test_stock_set_checks_expected_version(tenant: Any, sku: Sku) -> None:
    result, movement = stock_set(tenant=tenant, sku_id=sku.pk, stock=25, expected_version=1)
    assert result == {"id": sku.pk, "stock": 25, "version": 2}
    assert (movement.reason, movement.quantity, movement.stock_after) == ("sync", 15, 25)

    with pytest.raises(ApplicationError) as exc:
        stock_set(tenant=tenant, sku_id=sku.pk, stock=3, expected_version=1)
    assert exc.value.code == "version_conflict" and status_for(exc.value) == 409
    assert exc.value.details["current_version"] == 2
    assert _stock(sku) == 25


def test_stock_low_event_once_per_downward_crossing(tenant: Any, sku: Sku) -> None:
    Sku.objects.filter(pk=sku.pk).update(low_stock_threshold=5)

    stock_deduct(tenant=tenant, lines=[(sku.pk, 4)], reference="A")  # 10 -> 6: above
    stock_deduct(tenant=tenant, lines=[(sku.pk, 2)], reference="B")  # 6 -> 4: crosses
    stock_deduct(tenant=tenant, lines=[(sku.pk, 1)], reference="C")  # 4 -> 3: still low
    stock_restock(tenant=tenant, lines=[(sku.pk, 5)], reference="D")  # 3 -> 8: up, no event
    stock_deduct(tenant=tenant, lines=[(sku.pk, 3)], reference="E")  # 8 -> 5: crosses again

    events = list(OutboxEvent.objects.filter(name="product.stock_low").order_by("id"))
    assert [e.payload["stock"] for e in events] == [4, 5]
    assert events[0].subject == f"sku:{sku.pk}" and events[0].tenant_id == tenant.pk


def test_one_call_crossing_several_thresholds_records_an_event_for_each(
    tenant: Any, sku: Sku
) -> None:
    other = SkuFactory(product=sku.product, stock=10, low_stock_threshold=8)
    calm = SkuFactory(product=sku.product, stock=10, low_stock_threshold=2)
    Sku.objects.filter(pk=sku.pk).update(low_stock_threshold=5)

    stock_deduct(tenant=tenant, lines={sku.pk: 6, other.pk: 2, calm.pk: 1}, reference="POS-9")

    events = OutboxEvent.objects.filter(name="product.stock_low").order_by("subject")
    assert sorted((e.payload["sku_id"], e.payload["stock"]) for e in events) == sorted(
        [(sku.pk, 4), (other.pk, 8)]
    )


def test_database_refuses_negative_stock(sku: Sku) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Sku.objects.filter(pk=sku.pk).update(stock=-1)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_sku SET stock = stock - 11 WHERE id = %s", [sku.pk])
    assert _stock(sku) == 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_threads_reserving_ten_in_stock_never_oversell(tenant: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for real concurrent transactions")
    sku = SkuFactory(product=ProductFactory(tenant=tenant), stock=10)
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            barrier.wait()
            stock_reserve(tenant=tenant, lines=[(sku.pk, 1)], reference=f"ORD-{n}")
            result = "ok"
        except ApplicationError as exc:
            result = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes.count("ok") == 10
    assert outcomes.count("out_of_stock") == 40
    assert _stock(sku) == 0
    movements = StockMovement.objects.filter(sku=sku)
    assert movements.count() == 10
    assert sorted(movements.values_list("stock_after", flat=True)) == list(range(10))


def _threads(count: int, fn: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(n: int) -> None:
        try:
            barrier.wait()
            results[n] = fn(n)
        except Exception as exc:  # the test asserts on what came back
            results[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_with_the_same_skus_in_opposite_order_do_not_deadlock(
    tenant: Any,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for real concurrent transactions")
    product = ProductFactory(tenant=tenant)
    first, second = SkuFactory(product=product, stock=100), SkuFactory(product=product, stock=100)

    def order(n: int) -> list[StockMovement]:
        # Half the buyers list the SKUs one way, half the other; each holds its transaction a
        # moment after the first lock so that the two orders really interleave.
        lines = [(first.pk, 1), (second.pk, 2)] if n % 2 else [(second.pk, 2), (first.pk, 1)]
        with transaction.atomic():
            moved = stock_reserve(tenant=tenant, lines=lines, reference=f"ORD-{n}")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(0.01)")
            return moved

    results = _threads(30, order)

    assert [r for r in results if not isinstance(r, list)] == []
    assert (_stock(first), _stock(second)) == (70, 40)
    assert StockMovement.objects.filter(reason="reserve").count() == 60
    for sku, start in ((first, 100), (second, 100)):
        after = sorted(StockMovement.objects.filter(sku=sku).values_list("stock_after", flat=True))
        step = 1 if sku == first else 2
        assert after == list(range(start - 30 * step, start, step))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_of_one_reference_move_the_stock_once(tenant: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for real concurrent transactions")
    product = ProductFactory(tenant=tenant)
    first, second = SkuFactory(product=product, stock=10), SkuFactory(product=product, stock=10)

    results = _threads(
        10,
        lambda n: stock_reserve(
            tenant=tenant, lines={first.pk: 3, second.pk: 1}, reference="ORD-SAME"
        ),
    )

    assert all(isinstance(r, list) for r in results), results
    assert sorted(r[0].replayed for r in results) == [False] + [True] * 9
    assert {tuple(m.pk for m in r) for r in results} == {
        tuple(StockMovement.objects.order_by("sku_id").values_list("pk", flat=True))
    }
    assert (_stock(first), _stock(second)) == (7, 9)
    assert StockMovement.objects.count() == 2
