"""Member merge (phone binding): the absorbed member's cart joins the survivor's.

Orders, after-sales and points uses simply move (members.services.merge re-points them);
the cart is one per member, so it needs this handler."""

from __future__ import annotations

from django.db.models import F
from django.db.models.functions import Least

from members.models import Member
from orders.models import Cart, CartItem


def merge_carts(*, survivor: Member, loser: Member) -> int:
    """Move the loser's cart lines into the survivor's cart (same SKU: quantities added,
    capped at the cart maximum); returns the lines moved or merged."""
    loser_cart = Cart.objects.for_tenant(loser.tenant_id).filter(member=loser).first()
    if loser_cart is None:
        return 0
    survivor_cart = Cart.objects.for_tenant(survivor.tenant_id).filter(member=survivor).first()
    if survivor_cart is None:
        return Cart.objects.filter(pk=loser_cart.pk).update(member=survivor)
    moved = 0
    items = CartItem.objects.for_tenant(survivor.tenant_id)
    for item in items.filter(cart=loser_cart).order_by("pk"):
        merged = items.filter(cart=survivor_cart, sku_id=item.sku_id).update(
            quantity=Least(F("quantity") + item.quantity, CartItem.MAX_QUANTITY)
        )
        if merged:
            item.delete()
        else:
            items.filter(pk=item.pk).update(cart=survivor_cart)
        moved += 1
    loser_cart.delete()
    return moved
