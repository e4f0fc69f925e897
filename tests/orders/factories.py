from __future__ import annotations

from decimal import Decimal

import factory

from orders.models import Store
from tests.mall.factories import TenantFactory


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Store {n}")
    address = "88 Shennan Road"
    city = "Shenzhen"
    hours = "09:00-21:00"
    latitude = Decimal("22.540000")
    longitude = Decimal("114.050000")
    pickup_enabled = True
    same_city_enabled = True
    same_city_bands = factory.LazyFunction(
        lambda: [{"max_km": "3", "fee": "5.00"}, {"max_km": "10", "fee": "12.00"}]
    )
