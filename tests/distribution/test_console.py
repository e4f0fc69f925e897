from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from distribution.models import Distributor

pytestmark = pytest.mark.django_db

PAGES = [
    "distributionsettings",
    "distributorgrade",
    "commissionrule",
    "distributor",
    "binding",
    "commission",
    "ledgerentry",
    "withdrawal",
    "teamreward",
]


def test_pages_open_and_approve_action_works(tenant: Any, owner: Any, chain: dict) -> None:
    pending = Distributor.objects.create(
        tenant=tenant, member=chain["buyer"], share_code="PEND2345", parent=chain["d"]
    )
    client = Client()
    client.force_login(owner.user)
    for page in PAGES:
        answer = client.get(f"/console/distribution/{page}/")
        assert answer.status_code == 200, page
    answer = client.post(
        "/console/distribution/distributor/",
        {"action": "approve", "_selected_action": [pending.pk]},
    )
    assert answer.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "approved" and pending.ancestor2_id == chain["c"].pk


def staff_client(tenant: Any, role: str) -> Client:
    from tests.mall.factories import StaffFactory

    client = Client()
    client.force_login(StaffFactory(tenant=tenant, role=role).user)
    return client


def test_team_tree_shows_three_levels_and_uplines(tenant: Any, owner: Any, chain: dict) -> None:
    from tests.distribution import factories as f

    a, b, c, d = (chain[k] for k in "abcd")
    beyond = f.distributor(tenant, parent=d)  # level 4 below b: not in b's team
    client = Client()
    client.force_login(owner.user)

    page = client.get(f"/console/distribution/distributor/{b.pk}/team/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Team over three levels: <strong>3</strong>" in html
    for code in (c.share_code, d.share_code, beyond.share_code):
        assert code in html
    assert f"/console/distribution/distributor/{a.pk}/team/" in html  # upline link
    # c is nested under b, d under c (the tree follows the parents).
    assert html.index(c.share_code) < html.index(d.share_code) < html.index(beyond.share_code)
    assert html.count('class="team-level-3"') == 1
    listing = client.get("/console/distribution/distributor/").content.decode()
    assert f"/console/distribution/distributor/{b.pk}/statement/" in listing


def test_console_pages_of_another_shops_distributor_are_404(
    tenant: Any, other_tenant: Any, owner: Any, chain: dict
) -> None:
    from tests.distribution import factories as f

    foreign = f.distributor(other_tenant)
    client = Client()
    client.force_login(owner.user)
    for page in ("team", "statement"):
        answer = client.get(f"/console/distribution/distributor/{foreign.pk}/{page}/")
        assert answer.status_code == 404, page


def test_statement_xlsx_has_running_balance_and_commissions(
    tenant: Any, owner: Any, chain: dict
) -> None:
    import io
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone
    from openpyxl import load_workbook

    from distribution.models import LedgerEntry
    from distribution.services import (
        attribution_snapshot,
        commissions_create_for_order,
        commissions_settle_due,
        withdrawal_request,
    )
    from tests.distribution import factories as f

    d = chain["d"]
    order = f.paid_order(
        tenant,
        chain["buyer"],
        [{"payable": "100.00", "title": "Tea"}],
        distribution=attribution_snapshot(tenant=tenant, member=chain["buyer"]),
    )
    commissions_create_for_order(order_id=order.pk)
    f.complete(order)
    commissions_settle_due()
    withdrawal_request(tenant=tenant, member=d.member, amount=Decimal("4.00"))
    old = LedgerEntry.objects.create(
        tenant=tenant, distributor=d, kind="reward", amount=Decimal("1.50"), reference="r:old"
    )
    LedgerEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    today = timezone.localdate(timezone.now(), tenant.tz)
    client = Client()
    client.force_login(owner.user)

    form = client.get(f"/console/distribution/distributor/{d.pk}/statement/")
    assert form.status_code == 200
    answer = client.get(
        f"/console/distribution/distributor/{d.pk}/statement/",
        {"start": (today - timedelta(days=7)).isoformat(), "end": today.isoformat(),
         "format": "xlsx"},
    )  # fmt: skip

    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith(
        f'attachment; filename="statement-{d.share_code}'
    )
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Summary", "Ledger", "Commissions"]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    assert Decimal(str(summary["opening balance"])) == Decimal("1.50")  # the old reward
    assert Decimal(str(summary["closing balance"])) == Decimal("7.50")  # 1.50 + 10.00 - 4.00
    ledger = list(book["Ledger"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], Decimal(str(r[4])), Decimal(str(r[5]))) for r in ledger] == [
        ("credit", Decimal("10"), Decimal("11.5")),
        ("withdraw", Decimal("-4"), Decimal("7.5")),
    ]
    commissions = list(book["Commissions"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[2], r[3], Decimal(str(r[6])), r[9]) for r in commissions] == [
        (order.number, "Tea", 1, Decimal("10"), "settled")
    ]
    bad = client.get(
        f"/console/distribution/distributor/{d.pk}/statement/",
        {"start": "2026-02-30", "format": "xlsx"},
    )
    assert bad.status_code == 200 and bad["Content-Type"].startswith("text/html")


def test_statement_needs_a_money_role(tenant: Any, chain: dict) -> None:
    client = staff_client(tenant, "service")
    answer = client.get(f"/console/distribution/distributor/{chain['d'].pk}/statement/")
    assert answer.status_code == 403
