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
