"""Follow-ups (mall.followups): work that must happen after a state change is recorded in the
change's transaction and relayed to Celery, so a broker outage or a killed worker delays it and
never loses it (issue 15, items 1-3)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import kombu.pools
import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from distribution.models import Commission
from mall.celery import app
from mall.followups.models import FollowUp
from mall.followups.services import (
    backoff,
    follow_up,
    followup_retry,
    followup_run,
    followups_relay,
    lease_seconds,
)
from mall.tenancy.services import api_key_create
from members.models import Member
from orders.models import AfterSale, Order
from payments.models import Payment
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.conftest import shopper_client
from tests.distribution.factories import distributor, enable, grade
from tests.mall.factories import ChannelFactory
from tests.members.factories import AddressFactory

pytestmark = pytest.mark.django_db

COMMISSIONS = "distribution.tasks.commissions_create"


@contextmanager
def celery_broker(url: str, **conf: Any) -> Iterator[None]:
    """Celery as deployed (not eager) on the broker at ``url``; restored afterwards."""
    names = ["task_always_eager", "broker_url", *conf]
    saved = {name: app.conf[name] for name in names}

    def reset_pools() -> None:
        app._pool = None  # type: ignore[attr-defined]
        app.amqp._producer_pool = None
        kombu.pools.reset()

    app.conf.update(task_always_eager=False, broker_url=url, **conf)
    reset_pools()
    try:
        yield
    finally:
        reset_pools()
        app.conf.update(**saved)


@pytest.fixture
def broker_down() -> Iterator[None]:
    """The broker on a port where nothing listens."""
    with celery_broker("redis://127.0.0.1:1/0"):
        yield


@pytest.fixture
def shop(tenant: Any) -> dict[str, Any]:
    channel = ChannelFactory(tenant=tenant, app_id="wx-followups-sandbox", is_sandbox=True)
    enable(tenant, tiers=2)
    gold = grade(tenant, rates=("0.10", "0.05", "0.00"))
    upline = distributor(tenant, grade_obj=gold)
    seller = distributor(tenant, parent=upline, grade_obj=gold)
    sku = SkuFactory(product=ProductFactory(tenant=tenant), price=Decimal("45.67"), stock=50)
    _, key = api_key_create(tenant=tenant, scopes=["orders"])
    merchant = APIClient()
    merchant.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return {
        "channel": channel,
        "seller": seller,
        "upline": upline,
        "sku": sku,
        "merchant": merchant,
    }


def _buyer(shop: dict[str, Any], code: str) -> tuple[APIClient, Member]:
    channel = shop["channel"]
    body = {"code": code, "scene": f"d={shop['seller'].share_code}"}
    answer = shopper_client(channel.app_id).post("/api/v1/auth/wechat/login", body, format="json")
    assert answer.status_code in (200, 201), answer.content
    member = Member.objects.get(pk=answer.json()["member"]["id"])
    return shopper_client(channel.app_id, answer.json()["access"]), member


def _paid_order(client: APIClient, member: Member, sku: Any, quantity: int, key: str) -> Order:
    address = AddressFactory(tenant=member.tenant, member=member)
    created = client.post(
        "/api/v1/orders",
        {
            "lines": [{"sku_id": sku.pk, "quantity": quantity}],
            "fulfillment": "express",
            "address_id": address.pk,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    trade = client.post(f"/api/v1/orders/{number}/pay", {"gateway": "sandbox"}, format="json")
    assert trade.status_code == 200, trade.content
    done = client.post(f"/api/v1/payments/sandbox/{trade.json()['out_trade_no']}/complete")
    assert done.status_code == 200, done.content
    return Order.objects.get(number=number)


def _net(order: Order) -> dict[int, Decimal]:
    return {c.tier: c.amount - c.reversed_amount for c in Commission.objects.filter(order=order)}


def _run_pending(*, except_task: str = "") -> int:
    """Play the worker: run every pending follow-up (and those they record) until none is
    left, leaving out ``except_task``."""
    ran = 0
    while True:
        pending = FollowUp.objects.filter(status=FollowUp.Status.PENDING).exclude(task=except_task)
        ids = list(pending.values_list("pk", flat=True))
        if not ids:
            return ran
        for pk in ids:
            assert followup_run(followup_id=pk) == FollowUp.Status.DONE
            ran += 1


# --- 1. Broker unreachable at payment time ---------------------------------------------------


def test_paid_with_the_broker_down_answers_2xx_and_commissions_follow_exactly_once(
    shop: dict[str, Any], broker_down: None, django_capture_on_commit_callbacks: Any
) -> None:
    client, buyer = _buyer(shop, "broker-down")
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        order = _paid_order(client, buyer, shop["sku"], 3, "broker-down-1")
    assert time.monotonic() - started < 20  # a failed publish costs seconds, not minutes
    assert order.status == "paid"
    assert not Commission.objects.filter(order=order).exists()  # delayed, not lost
    pending = FollowUp.objects.get(task=COMMISSIONS)
    assert pending.status == FollowUp.Status.PENDING and pending.published_at is None

    # The sweep while the broker is still down publishes nothing and raises nothing.
    assert followups_relay() == 0

    # The gateway retries its notification: answered 2xx, nothing recorded twice.
    with django_capture_on_commit_callbacks(execute=True):
        trade_no = Payment.objects.get(reference=order.number).out_trade_no
        again = client.post(f"/api/v1/payments/sandbox/{trade_no}/complete")
    assert again.status_code == 200
    assert FollowUp.objects.filter(task=COMMISSIONS).count() == 1

    # The broker is back: the beat sweep relays it and the worker creates the commissions.
    app.conf.task_always_eager = True
    assert followups_relay() == 1
    assert _net(order) == {1: Decimal("13.70"), 2: Decimal("6.85")}
    pending.refresh_from_db()
    assert pending.status == FollowUp.Status.DONE and pending.done_at is not None

    # Exactly once: more sweeps and a replayed run change nothing.
    assert followups_relay() == 0
    assert followup_run(followup_id=pending.pk) == "skipped"
    assert Commission.objects.filter(order=order).count() == 2


@pytest.mark.redis
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs a real Redis broker: set REDIS_URL")
def test_the_relay_publishes_into_a_real_broker(tenant: Any) -> None:
    import redis

    from tests.mall.test_celery import smoke_redis_url

    url = smoke_redis_url()
    queue = f"followups-{timezone.now().timestamp()}"
    row = FollowUp.objects.create(
        tenant=tenant, task="mall.tasks.ping", key="ping:1", due_at=timezone.now()
    )
    conn = redis.Redis.from_url(url)
    try:
        with celery_broker(url, task_default_queue=queue):
            assert followups_relay() == 1
            assert conn.llen(queue) == 1
            row.refresh_from_db()
            assert row.published_at is not None and row.status == FollowUp.Status.PENDING
            # Published recently: the next sweep leaves it to the worker.
            assert followups_relay() == 0
    finally:
        conn.delete(queue)
        conn.close()


# --- 2. A killed worker ----------------------------------------------------------------------


def test_broker_visibility_timeout_is_above_the_task_time_limit_and_far_below_an_hour() -> None:
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert settings.CELERY_TASK_TIME_LIMIT < lease_seconds() < visibility <= 900
    assert app.conf.broker_transport_options["socket_connect_timeout"] <= 5


def test_a_row_whose_worker_died_is_run_again_once_its_lease_runs_out(
    tenant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        row = follow_up(tenant=tenant, task="mall.tasks.ping", key="ping:killed")
    row.refresh_from_db()
    assert row.status == FollowUp.Status.DONE  # eager Celery: ran after commit
    # A worker took it again, leased it and was killed mid-run.
    now = timezone.now()
    FollowUp.objects.filter(pk=row.pk).update(
        status=FollowUp.Status.PENDING,
        done_at=None,
        published_at=now,
        locked_until=now + timedelta(seconds=lease_seconds()),
        attempts=1,
    )
    assert followups_relay(now=now + timedelta(seconds=60)) == 0  # still leased
    with time_machine.travel(now + timedelta(seconds=lease_seconds() + 1), tick=False):
        assert followups_relay() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (FollowUp.Status.DONE, 2)


# --- The outbox itself -----------------------------------------------------------------------


def test_the_same_key_twice_is_one_piece_of_work_and_done_work_is_armed_again(
    tenant: Any, broker_down: None
) -> None:
    first = follow_up(tenant=tenant, task="mall.tasks.ping", key="k", kwargs={"value": "a"})
    second = follow_up(tenant=tenant, task="mall.tasks.ping", key="k", kwargs={"value": "b"})
    assert first.pk == second.pk and FollowUp.objects.count() == 1
    assert FollowUp.objects.get().kwargs == {"value": "b"}
    assert followup_run(followup_id=first.pk) == FollowUp.Status.DONE
    again = follow_up(tenant=tenant, task="mall.tasks.ping", key="k", kwargs={"value": "b"})
    assert again.pk == first.pk and again.status == FollowUp.Status.PENDING
    assert again.attempts == 0 and again.done_at is None


def test_a_failing_follow_up_backs_off_then_fails_and_can_be_retried(
    tenant: Any, broker_down: None, settings: Any
) -> None:
    settings.MALL_FOLLOWUP_MAX_ATTEMPTS = 3
    row = follow_up(
        tenant=tenant,
        task=COMMISSIONS,
        key="commissions:missing",
        kwargs={"order_id": "not-a-number"},
    )
    now = timezone.now()
    assert followup_run(followup_id=row.pk, now=now) == FollowUp.Status.PENDING
    row.refresh_from_db()
    assert row.attempts == 1 and row.last_error and row.locked_until is None
    assert row.due_at >= now + backoff(1) - timedelta(seconds=1)
    assert followups_relay(now=now) == 0  # not due yet: backoff
    assert followup_run(followup_id=row.pk) == FollowUp.Status.PENDING
    assert followup_run(followup_id=row.pk) == FollowUp.Status.FAILED
    row.refresh_from_db()
    assert row.status == FollowUp.Status.FAILED
    assert followups_relay(now=now + timedelta(days=1)) == 0  # failed rows wait for a person
    assert followup_retry(tenant=tenant, followup_id=row.pk) is True
    row.refresh_from_db()
    assert (row.status, row.attempts) == (FollowUp.Status.PENDING, 0)


def test_console_lists_follow_ups_and_retries_failed_ones(
    tenant: Any, owner: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    row = FollowUp.objects.create(
        tenant=tenant,
        task="mall.tasks.ping",
        key="ping:failed",
        status=FollowUp.Status.FAILED,
        attempts=12,
        last_error="ConnectionError: gateway down",
        due_at=timezone.now(),
    )
    client.force_login(owner.user)
    page = client.get("/console/mall/followup/")
    assert page.status_code == 200 and "ping:failed" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/console/mall/followup/",
            {"action": "retry_failed", "_selected_action": [row.pk]},
        )
    row.refresh_from_db()
    assert row.status == FollowUp.Status.DONE  # re-armed and run (eager Celery)


# --- 3. A refund that comes before the commissions -------------------------------------------


def _refund_one(shop: dict[str, Any], client: APIClient, order: Order) -> None:
    line = order.lines.get()
    requested = client.post(
        f"/api/v1/orders/{order.number}/after-sales",
        {"type": "refund", "lines": [{"line_id": line.pk, "quantity": 1}], "reason": "size"},
        format="json",
    )
    assert requested.status_code == 201, requested.content
    approved = shop["merchant"].post(
        f"/api/merchant/v1/after-sales/{requested.json()['id']}/approve"
    )
    assert approved.status_code == 200, approved.content


def test_refund_then_create_and_create_then_refund_give_the_same_net_commissions(
    shop: dict[str, Any], django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    # Nothing is published after commit: this test plays the worker, in the order it picks.
    monkeypatch.setattr("mall.followups.services.followups_publish", lambda ids: 0)
    client, buyer = _buyer(shop, "refund-order")

    # A: the usual order of events: commissions, then the refund takes back its share.
    with django_capture_on_commit_callbacks(execute=True):
        usual = _paid_order(client, buyer, shop["sku"], 3, "usual")
    _run_pending()
    with django_capture_on_commit_callbacks(execute=True):
        _refund_one(shop, client, usual)
    _run_pending()

    # B: the commissions' follow-up is late (broker hiccup): the refund completes and its
    # reversal runs first, finding nothing; then the commissions are created.
    with django_capture_on_commit_callbacks(execute=True):
        late = _paid_order(client, buyer, shop["sku"], 3, "late")
        _refund_one(shop, client, late)
    _run_pending(except_task=COMMISSIONS)
    assert AfterSale.objects.get(order=late).status == AfterSale.Status.REFUNDED
    assert not Commission.objects.filter(order=late).exists()
    _run_pending()

    # 3 x 45.67 = 137.01 paid, 45.67 refunded: 91.34 earns 9.13 and 4.57 (not 13.70 / 6.85).
    expected = {1: Decimal("9.13"), 2: Decimal("4.57")}
    assert _net(usual) == expected
    assert _net(late) == expected
    # The late reversal's own follow-up ran too and found the refund already applied.
    assert Commission.objects.filter(order=late, reversals__isnull=False).count() == 2


def test_operator_command_relays_and_retries(tenant: Any, broker_down: None) -> None:
    from io import StringIO

    from django.core.management import call_command

    FollowUp.objects.create(
        tenant=tenant,
        task="mall.tasks.ping",
        key="ping:cmd",
        status=FollowUp.Status.FAILED,
        due_at=timezone.now(),
    )
    out = StringIO()
    call_command("followups", "--retry-failed", stdout=out)
    assert "re-armed 1" in out.getvalue() and "pending: 1" in out.getvalue()
    app.conf.task_always_eager = True  # the broker is back
    out = StringIO()
    call_command("followups", "--relay", stdout=out)
    assert "published 1" in out.getvalue() and "done: 1" in out.getvalue()
