"""Demo data of the catalog for ``manage.py seed_demo`` (idempotent: safe to re-run).

A category tree, a freight template, 56 products with specs, SKUs, stock and Pillow-drawn
images. Products are keyed by ``ref`` ("demo-<n>"), so a re-run creates nothing twice.
"""

from __future__ import annotations

import io
from decimal import Decimal
from itertools import product as combinations

from django.core.management.base import OutputWrapper
from PIL import Image, ImageDraw

from catalog.images import product_image_add
from catalog.models import Category, FreightRule, FreightTemplate, Product
from catalog.services import product_create
from mall.tenancy.models import Tenant

PRODUCTS_PER_LEAF = 8
SPECS_BY_ROOT: dict[str, list[dict]] = {
    "Tea": [{"name": "Weight", "values": ["100g", "250g"]},
            {"name": "Packaging", "values": ["Tin", "Gift box"]}],
    "Snacks": [{"name": "Flavour", "values": ["Original", "Spicy", "Honey"]}],
    "Home": [{"name": "Colour", "values": ["White", "Grey"]}],
}  # fmt: skip
PALETTE = ["#c0392b", "#27ae60", "#2980b9", "#8e44ad", "#d35400", "#16a085", "#7f8c8d"]

DEMO_CATEGORY_TREE: dict[str, list[str]] = {
    "Tea": ["Green tea", "Black tea", "Oolong"],
    "Snacks": ["Nuts", "Dried fruit"],
    "Home": ["Kitchen", "Storage"],
}


def _category(*, tenant: Tenant, name: str, parent: Category | None, sort_order: int) -> bool:
    """Create the category unless it exists under that parent; True when created."""
    if Category.objects.for_tenant(tenant).filter(parent=parent, name=name).exists():
        return False
    Category.objects.create(tenant=tenant, parent=parent, name=name, sort_order=sort_order)
    return True


def seed(*, tenant: Tenant, stdout: OutputWrapper) -> None:
    created = 0
    for root_order, (root_name, children) in enumerate(DEMO_CATEGORY_TREE.items()):
        created += _category(tenant=tenant, name=root_name, parent=None, sort_order=root_order)
        root = Category.objects.for_tenant(tenant).get(parent=None, name=root_name)
        for child_order, child_name in enumerate(children):
            created += _category(
                tenant=tenant, name=child_name, parent=root, sort_order=child_order
            )
    stdout.write(f"  categories: {created} new")
    template = _freight_template(tenant)
    made = 0
    number = 0
    for root_name, children in DEMO_CATEGORY_TREE.items():
        root = Category.objects.for_tenant(tenant).get(parent=None, name=root_name)
        for child_name in children:
            leaf = Category.objects.for_tenant(tenant).get(parent=root, name=child_name)
            for k in range(PRODUCTS_PER_LEAF):
                number += 1
                made += _product(
                    tenant=tenant, number=number, k=k, leaf=leaf, root_name=root_name,
                    template=template,
                )  # fmt: skip
    stdout.write(f"  products: {made} new ({number} in the demo catalog)")


def _freight_template(tenant: Tenant) -> FreightTemplate:
    template, created = FreightTemplate.objects.get_or_create(
        tenant=tenant,
        name="Standard",
        defaults={
            "charge_by": "piece", "first_units": 1, "first_fee": Decimal("8.00"),
            "additional_units": 1, "additional_fee": Decimal("2.00"),
            "free_shipping_threshold": Decimal("99.00"), "undeliverable_provinces": ["54"],
        },
    )  # fmt: skip
    if created:
        FreightRule.objects.create(
            tenant=tenant, template=template, provinces=["63", "64", "65"],
            first_fee=Decimal("15.00"), additional_fee=Decimal("5.00"),
        )  # fmt: skip
    return template


def _image(title: str, colour: str) -> io.BytesIO:
    img = Image.new("RGB", (800, 800), colour)
    draw = ImageDraw.Draw(img)
    draw.ellipse((200, 200, 600, 600), fill="white")
    draw.text((40, 40), title, fill="white")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    buf.seek(0)
    return buf


def _product(
    *, tenant: Tenant, number: int, k: int, leaf: Category, root_name: str,
    template: FreightTemplate,
) -> bool:  # fmt: skip
    ref = f"demo-{number}"
    if Product.objects.for_tenant(tenant).filter(ref=ref).exists():
        return False
    specs = SPECS_BY_ROOT[root_name]
    base = Decimal(9 + (number * 7) % 90)
    skus = []
    for i, combo in enumerate(combinations(*[s["values"] for s in specs])):
        skus.append({
            "code": f"DEMO-{number:03d}-{i + 1}",
            "specs": {s["name"]: v for s, v in zip(specs, combo, strict=True)},
            "price": base + i * 5, "market_price": base + i * 5 + 10,
            "cost_price": (base * Decimal("0.6")).quantize(Decimal("0.01")),
            "weight_grams": 250 + i * 100, "stock": (number * 13 + i * 7) % 60,
            "low_stock_threshold": 5,
        })  # fmt: skip
    title = f"{leaf.name} no. {k + 1}"
    product = product_create(
        tenant=tenant, ref=ref, title=title, subtitle=f"Demo {leaf.name.lower()}",
        description=f"<p>A demo product of the <strong>{leaf.name}</strong> shelf.</p>",
        category_id=leaf.pk, freight_template_id=template.pk,
        status=Product.Status.ON_SALE if k < PRODUCTS_PER_LEAF - 1 else Product.Status.DRAFT,
        sort_weight=PRODUCTS_PER_LEAF - k, specs=specs, skus=skus,
    )  # fmt: skip
    product_image_add(
        tenant=tenant, product=product, upload=_image(title, PALETTE[number % len(PALETTE)])
    )
    return True
