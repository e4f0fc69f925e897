from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from catalog.inventory import (
    stock_adjust,
    stock_deduct,
    stock_release,
    stock_reserve,
    stock_restock,
    stock_set,
)
from catalog.models import Sku, StockMovement
from mall.api.errors import ApplicationError
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

    assert exc.value.code == "out_of_stock" and exc.value.status_code == 409
    assert exc.value.details == {"sku_id": sku.pk, "requested": 11, "available": 10}
    assert _stock(sku) == 10
    assert not StockMovement.objects.exists()


def test_multi_sku_reservation_is_all_or_nothing(tenant: Any, sku: Sku) -> None:
    short = SkuFactory(product=sku.product, stock=1)

    with pytest.raises(ApplicationError):
        stock_reserve(tenant=tenant, lines={sku.pk: 2, short.pk: 2}, reference="ORD-2")

    assert (_stock(sku), _stock(short)) == (10, 1)
    assert not StockMovement.objects.exists()


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
        assert exc.value.status_code == 400


def test_other_tenants_sku_is_not_found(other_tenant: Any, sku: Sku) -> None:
    with pytest.raises(ApplicationError) as exc:
        stock_reserve(tenant=other_tenant, lines=[(sku.pk, 1)], reference="ORD-X")
    assert exc.value.status_code == 404
    assert _stock(sku) == 10


def test_stock_set_checks_expected_version(tenant: Any, sku: Sku) -> None:
    result, movement = stock_set(tenant=tenant, sku_id=sku.pk, stock=25, expected_version=1)
    assert result == {"id": sku.pk, "stock": 25, "version": 2}
    assert (movement.reason, movement.quantity, movement.stock_after) == ("sync", 15, 25)

    with pytest.raises(ApplicationError) as exc:
        stock_set(tenant=tenant, sku_id=sku.pk, stock=3, expected_version=1)
    assert exc.value.code == "version_conflict" and exc.value.status_code == 409
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
