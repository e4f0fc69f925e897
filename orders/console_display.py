"""Readable text of an order's snapshots for the console (address, store, promotions; the
distribution chain is read by ``distribution`` through ``orders.hooks.distribution_lines``):
the console never shows their raw JSON."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext

from orders.models import Order


def yuan(amount: Any) -> str:
    """¥1,234.50"""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    return f"¥{value:,.2f}"


def address_text(address: dict[str, Any] | None) -> str:
    """ "Zhang San 13800000000, Guangdong Shenzhen Nanshan, 1 Keyuan Road (518000)"."""
    if not address:
        return ""
    who = " ".join(str(address.get(k) or "") for k in ("name", "phone")).strip()
    region = " ".join(
        str(address.get(k) or "") for k in ("province", "city", "district") if address.get(k)
    )
    place = ", ".join(p for p in (region, str(address.get("detail") or "").strip()) if p)
    postal = address.get("postal_code")
    text = ", ".join(p for p in (who, place) if p)
    return f"{text} ({postal})" if postal else text


def store_text(snapshot: dict[str, Any] | None) -> str:
    if not snapshot:
        return ""
    parts = [str(snapshot.get(k) or "").strip() for k in ("name", "address", "phone", "hours")]
    return ", ".join(p for p in parts if p)


def promotions_text(order: Order) -> list[str]:
    """One line per discount applied at checkout: "Full reduction 200-20: -¥20.00"."""
    lines = []
    for promo in order.promotions or []:
        if not isinstance(promo, dict):
            continue
        name = promo.get("name") or promo.get("kind") or gettext("Discount")
        lines.append(f"{name}: -{yuan(promo.get('amount', '0'))}")
    return lines
