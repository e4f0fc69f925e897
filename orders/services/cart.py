"""Cart use cases: one cart per member, shared by every platform the member uses."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from catalog.models import Sku
from mall.errors import ApplicationError, InvalidInputError, NotFoundError
from mall.tenancy.models import Tenant
from members.models import Member
from orders.errors import OrderErrorCode
from orders.models import Cart, CartItem


def cart_get_or_create(*, tenant: Tenant, member: Member) -> Cart:
    cart = Cart.objects.for_tenant(tenant).filter(member=member).first()
    if cart is not None:
        return cart
    try:
        with transaction.atomic():
            return Cart.objects.create(tenant=tenant, member=member)
    except IntegrityError:
        return Cart.objects.for_tenant(tenant).get(member=member)


def _quantity(quantity: int) -> int:
    if not isinstance(quantity, int) or not 1 <= quantity <= CartItem.MAX_QUANTITY:
        raise InvalidInputError(
            OrderErrorCode.INVALID_LINES,
            _("Quantity must be between 1 and %(MAX_QUANTITY)s.")
            % {"MAX_QUANTITY": CartItem.MAX_QUANTITY},
        )
    return quantity


def cart_item_add(*, tenant: Tenant, member: Member, sku_id: int, quantity: int) -> CartItem:
    """Add ``quantity`` of a SKU (merged with the same SKU already in the cart)."""
    _quantity(quantity)
    if not Sku.objects.for_tenant(tenant).filter(pk=sku_id).exists():
        raise NotFoundError(_("SKU not found."), code=OrderErrorCode.SKU_NOT_FOUND)
    cart = cart_get_or_create(tenant=tenant, member=member)
    with transaction.atomic():
        updated = (
            CartItem.objects.for_tenant(tenant)
            .filter(cart=cart, sku_id=sku_id, quantity__lte=CartItem.MAX_QUANTITY - quantity)
            .update(quantity=F("quantity") + quantity, selected=True)
        )
        if not updated:
            if CartItem.objects.for_tenant(tenant).filter(cart=cart, sku_id=sku_id).exists():
                _quantity(CartItem.MAX_QUANTITY + 1)
            if CartItem.objects.for_tenant(tenant).filter(cart=cart).count() >= CartItem.MAX_ITEMS:
                raise ApplicationError(
                    OrderErrorCode.CART_FULL,
                    _("A cart holds at most %(MAX_ITEMS)s items.")
                    % {"MAX_ITEMS": CartItem.MAX_ITEMS},
                )
            try:
                with transaction.atomic():
                    CartItem.objects.create(
                        tenant=tenant, cart=cart, sku_id=sku_id, quantity=quantity
                    )
            except IntegrityError:  # added concurrently: merge
                CartItem.objects.for_tenant(tenant).filter(cart=cart, sku_id=sku_id).update(
                    quantity=F("quantity") + quantity
                )
        Cart.objects.for_tenant(tenant).filter(pk=cart.pk).update(updated_at=cart.updated_at)
    return CartItem.objects.for_tenant(tenant).get(cart=cart, sku_id=sku_id)


def _item(tenant: Tenant, member: Member, item_id: int) -> CartItem:
    item = CartItem.objects.for_tenant(tenant).filter(pk=item_id, cart__member=member).first()
    if item is None:
        raise NotFoundError(_("Cart item not found."), code=OrderErrorCode.CART_ITEM_NOT_FOUND)
    return item


def cart_item_update(
    *,
    tenant: Tenant,
    member: Member,
    item_id: int,
    quantity: int | None = None,
    selected: bool | None = None,
) -> CartItem:
    item = _item(tenant, member, item_id)
    fields = []
    if quantity is not None:
        item.quantity = _quantity(quantity)
        fields.append("quantity")
    if selected is not None:
        item.selected = selected
        fields.append("selected")
    if fields:
        item.save(update_fields=[*fields, "updated_at"])
    return item


def cart_item_remove(*, tenant: Tenant, member: Member, item_id: int) -> None:
    _item(tenant, member, item_id).delete()


def cart_select_all(*, tenant: Tenant, member: Member, selected: bool) -> int:
    return CartItem.objects.for_tenant(tenant).filter(cart__member=member).update(selected=selected)
