from __future__ import annotations

from typing import Any

import pytest

from tests.distribution import factories as f
from tests.members.factories import MemberFactory


@pytest.fixture
def config(tenant: Any) -> Any:
    return f.enable(tenant, tiers=3)


@pytest.fixture
def gold(tenant: Any) -> Any:
    return f.grade(tenant, ("0.10", "0.05", "0.02"), name="gold", is_default=True)


@pytest.fixture
def chain(tenant: Any, config: Any, gold: Any) -> dict[str, Any]:
    """A -> B -> C -> D (A at the top) and a customer bound to D."""
    from distribution.models import Binding

    a = f.distributor(tenant, grade_obj=gold)
    b = f.distributor(tenant, parent=a, grade_obj=gold)
    c = f.distributor(tenant, parent=b, grade_obj=gold)
    d = f.distributor(tenant, parent=c, grade_obj=gold)
    buyer = MemberFactory(tenant=tenant)
    Binding.objects.create(tenant=tenant, customer=buyer, distributor=d, source="share_link")
    return {"a": a, "b": b, "c": c, "d": d, "buyer": buyer}
