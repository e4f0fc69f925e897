from __future__ import annotations

from decimal import Decimal

import factory

from catalog.models import Category, FreightRule, FreightTemplate, Product, Sku
from tests.mall.factories import TenantFactory


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    tenant = factory.SubFactory(TenantFactory)
    title = factory.Sequence(lambda n: f"Product {n}")
    status = Product.Status.ON_SALE


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    product = factory.SubFactory(ProductFactory)
    tenant = factory.SelfAttribute("product.tenant")
    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    spec_key = factory.Sequence(lambda n: f"k{n}")
    price = Decimal("19.90")
    stock = 10


class FreightTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FreightTemplate

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Template {n}")


class FreightRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FreightRule

    template = factory.SubFactory(FreightTemplateFactory)
    tenant = factory.SelfAttribute("template.tenant")
