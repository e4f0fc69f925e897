"""The cart: one per member, shared by every platform the member shops on."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class Cart(TenantOwnedModel):
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="+", verbose_name=_("member")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "member"], name="uniq_cart_per_member"),
        ]

    def __str__(self) -> str:
        return gettext("cart of member %(member)s") % {"member": self.member_id}


class CartItem(TenantOwnedModel):
    MAX_ITEMS = 100
    MAX_QUANTITY = 9999

    cart = models.ForeignKey(
        Cart, on_delete=models.CASCADE, related_name="items", verbose_name=_("cart")
    )
    sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.CASCADE, related_name="+", verbose_name=_("sku")
    )
    quantity = models.PositiveIntegerField(verbose_name=_("quantity"))
    selected = models.BooleanField(default=True, verbose_name=_("selected"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("cart item")
        verbose_name_plural = _("cart items")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "cart", "sku"], name="uniq_cart_item_sku"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=9999), name="cart_item_qty_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x sku {self.sku_id}"
