"""The console's left menu and header, for ``settings.UNFOLD`` (django-unfold).

The menu is grouped the way merchants think (概况 / 商品 / 订单 / 营销 / 会员 / 分销 / 财务 /
设置). An entry is either a registered console model (``model="orders.Order"``: its
changelist) or a named console view (``url_name="tenant_settings"``). Who sees an entry is
never configured here: a model entry asks the model admin's ``has_view_permission`` for the
request, a view entry its ``permission`` callable, so the menu and the pages' 403s cannot
disagree. Entries of models not registered into ``console_site`` are left out.

Adding a page (other apps)::

    from mall.console.menu import MenuEntry, add_menu_entry
    add_menu_entry("orders", MenuEntry(_("Batch shipping"), "upload_file",
                   url_name="orders_order_batch_ship", permission=can_ship))

``/admin/`` (platform operators) gets no console menu, and unfold's list of all applications.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

CONSOLE_NAMESPACE = "console"

Permission = Callable[[HttpRequest], bool]


@dataclass(frozen=True)
class MenuEntry:
    title: str | Promise
    icon: str
    model: str | None = None  # "app_label.ModelName": the model's changelist
    url_name: str | None = None  # a console view: reverse("console:<url_name>")
    permission: Permission | None = None  # for url_name entries (model entries ask the admin)
    edit_permission: Permission | None = None  # for url_name entries: may change what it shows


@dataclass(frozen=True)
class MenuGroup:
    key: str
    title: str | Promise
    entries: list[MenuEntry]


def _settings_permission(request: HttpRequest) -> bool:
    from mall.console.views import SETTINGS_VIEW_ROLES

    staff = getattr(request, "staff", None)
    return staff is not None and staff.role in SETTINGS_VIEW_ROLES


def _settings_edit_permission(request: HttpRequest) -> bool:
    from mall.console.views import SETTINGS_EDIT_ROLES

    staff = getattr(request, "staff", None)
    return staff is not None and staff.role in SETTINGS_EDIT_ROLES


def _any_staff(request: HttpRequest) -> bool:
    return getattr(request, "staff", None) is not None


MENU: list[MenuGroup] = [
    MenuGroup(
        "overview",
        _("Overview"),
        [MenuEntry(_("Dashboard"), "dashboard", url_name="index", permission=_any_staff)],
    ),
    MenuGroup(
        "products",
        _("Products"),
        [
            MenuEntry(_("Products"), "inventory_2", model="catalog.Product"),
            MenuEntry(_("SKUs and stock"), "barcode", model="catalog.Sku"),
            MenuEntry(_("Categories"), "category", model="catalog.Category"),
            MenuEntry(_("Stock movements"), "swap_vert", model="catalog.StockMovement"),
            MenuEntry(_("Freight templates"), "local_shipping", model="catalog.FreightTemplate"),
        ],
    ),
    MenuGroup(
        "orders",
        _("Orders"),
        [
            MenuEntry(_("Orders"), "receipt_long", model="orders.Order"),
            MenuEntry(_("After-sales"), "assignment_return", model="orders.AfterSale"),
            MenuEntry(_("Shipping uploads"), "cloud_upload", model="payments.ShippingUpload"),
            MenuEntry(_("Pickup stores"), "storefront", model="orders.Store"),
        ],
    ),
    MenuGroup(
        "marketing",
        _("Marketing"),
        [
            MenuEntry(_("Campaigns"), "campaign", model="promotions.Campaign"),
            MenuEntry(
                _("Coupon templates"), "confirmation_number", model="promotions.CouponTemplate"
            ),
            MenuEntry(_("Issued coupons"), "local_activity", model="promotions.Coupon"),
            MenuEntry(_("Promotion settings"), "tune", model="promotions.PromotionSettings"),
        ],
    ),
    MenuGroup(
        "members",
        _("Members"),
        [
            MenuEntry(_("Members"), "group", model="members.Member"),
            MenuEntry(_("Addresses"), "home_pin", model="members.Address"),
            MenuEntry(pgettext_lazy("member tier", "Tiers"), "military_tech", model="members.Tier"),
            MenuEntry(_("Tier settings"), "tune", model="members.TierSettings"),
            MenuEntry(_("Growth ledger"), "trending_up", model="members.GrowthEntry"),
            MenuEntry(_("Tier changes"), "history", model="members.TierChange"),
            MenuEntry(_("Member card plans"), "card_membership", model="members.MemberCardPlan"),
            MenuEntry(_("Member cards"), "badge", model="members.MemberCard"),
            MenuEntry(_("Card purchases"), "shopping_bag", model="members.CardPurchase"),
            MenuEntry(_("Points ledger"), "toll", model="members.PointsLedger"),
            MenuEntry(_("Points settings"), "tune", model="members.PointsSettings"),
            MenuEntry(_("Check-in rewards"), "event_available", model="members.CheckInReward"),
        ],
    ),
    MenuGroup(
        "distribution",
        _("Distribution"),
        [
            MenuEntry(_("Distributors"), "diversity_3", model="distribution.Distributor"),
            MenuEntry(_("Bindings"), "link", model="distribution.Binding"),
            MenuEntry(_("Commissions"), "paid", model="distribution.Commission"),
            MenuEntry(_("Withdrawals"), "account_balance_wallet", model="distribution.Withdrawal"),
            MenuEntry(_("Distributor ledger"), "menu_book", model="distribution.LedgerEntry"),
            MenuEntry(_("Team rewards"), "military_tech", model="distribution.TeamReward"),
            MenuEntry(_("Distributor grades"), "stairs", model="distribution.DistributorGrade"),
            MenuEntry(_("Commission rules"), "rule", model="distribution.CommissionRule"),
            MenuEntry(
                _("Distribution settings"), "settings", model="distribution.DistributionSettings"
            ),
        ],
    ),
    MenuGroup(
        "finance",
        _("Finance"),
        [
            MenuEntry(_("Payments"), "payments", model="payments.Payment"),
            MenuEntry(_("Refunds"), "currency_exchange", model="payments.Refund"),
            MenuEntry(_("Payouts"), "send_money", model="payments.Payout"),
            MenuEntry(_("Reconciliation"), "fact_check", model="payments.ReconciliationRun"),
            MenuEntry(_("Settlement ledger"), "account_balance", model="payments.OrderSettlement"),
            MenuEntry(
                _("Profit sharing receivers"), "group_add", model="payments.ProfitSharingReceiver"
            ),
            MenuEntry(_("Profit sharing"), "call_split", model="payments.ProfitSharingOrder"),
        ],
    ),
    MenuGroup(
        "settings",
        _("Settings"),
        [
            MenuEntry(
                _("Shop settings"),
                "store",
                url_name="tenant_settings",
                permission=_settings_permission,
                edit_permission=_settings_edit_permission,
            ),
            MenuEntry(_("Staff"), "badge", model="mall.Staff"),
            MenuEntry(_("Staff invitations"), "mail", model="mall.StaffInvitation"),
            MenuEntry(_("Mini programs"), "apps", model="mall.Channel"),
            MenuEntry(_("Payment gateways"), "credit_card", model="payments.GatewayConfig"),
            MenuEntry(_("API keys"), "key", model="mall.ApiKey"),
            MenuEntry(_("Background jobs"), "sync", model="mall.FollowUp"),
        ],
    ),
]


def add_menu_entry(group_key: str, entry: MenuEntry, *, position: int | None = None) -> None:
    """Add an entry to a group (from an app's ``admin.py``); a duplicate is ignored."""
    group = next(g for g in MENU if g.key == group_key)
    if entry in group.entries:
        return
    if position is None:
        group.entries.append(entry)
    else:
        group.entries.insert(position, entry)


def is_console_request(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return CONSOLE_NAMESPACE in match.namespaces
    return request.path_info.startswith("/console/")


def site_title(request: HttpRequest) -> Any:
    return _("Merchant console") if is_console_request(request) else _("Platform administration")


def show_all_applications(request: HttpRequest) -> bool:
    return not is_console_request(request)


def _model_admin(label: str) -> Any:
    from mall.console.site import console_site

    try:
        model = apps.get_model(label)
    except LookupError:
        return None
    return console_site._registry.get(model)


def entry_link(entry: MenuEntry) -> str | None:
    """The entry's URL, or None when its model is not registered into the console."""
    if entry.model is not None:
        model_admin = _model_admin(entry.model)
        if model_admin is None:
            return None
        opts = model_admin.model._meta
        name = f"{opts.app_label}_{opts.model_name}_changelist"
    else:
        name = entry.url_name or "index"
    return reverse(f"{CONSOLE_NAMESPACE}:{name}", current_app=CONSOLE_NAMESPACE)


def entry_permission(entry: MenuEntry) -> Permission:
    """Whether the request's staff member may open the entry (the page's own check)."""
    if entry.model is not None:
        model_admin = _model_admin(entry.model)
        if model_admin is None:
            return lambda request: False
        return lambda request: bool(model_admin.has_view_permission(request))
    if entry.permission is not None:
        return entry.permission
    return _any_staff


def sidebar_navigation(request: HttpRequest) -> list[dict[str, Any]]:
    """unfold's ``SIDEBAR["navigation"]`` for the console; groups without an entry are left out."""
    if not is_console_request(request):
        return []
    groups: list[dict[str, Any]] = []
    for group in MENU:
        items: list[dict[str, Any]] = []
        for entry in group.entries:
            link = entry_link(entry)
            if link is None:
                continue
            permission = entry_permission(entry)
            items.append(
                {
                    "title": entry.title,
                    "icon": entry.icon,
                    "link": link,
                    "permission": permission,
                }
            )
        if any(item["permission"](request) for item in items):
            groups.append({"title": group.title, "separator": False, "items": items})
    return groups


def visible_menu_links(request: HttpRequest) -> list[str]:
    """The links the request's staff member sees in the menu (for tests and docs)."""
    return [
        item["link"]
        for group in sidebar_navigation(request)
        for item in group["items"]
        if item["permission"](request)
    ]


def entry_edit_permission(entry: MenuEntry) -> Permission:
    """Whether the request's staff member may change what the entry shows (add or change)."""
    if entry.model is not None:
        model_admin = _model_admin(entry.model)
        if model_admin is None:
            return lambda request: False
        return lambda request: bool(
            model_admin.has_change_permission(request) or model_admin.has_add_permission(request)
        )
    return entry.edit_permission or (lambda request: False)


def role_matrix_markdown() -> str:
    """The role x menu entry matrix (view / edit) as a Markdown table, from the code itself.

    ``python manage.py console_role_matrix`` prints it; docs/console.md holds a copy that a
    test keeps equal.
    """
    from django.test import RequestFactory
    from django.utils import translation

    from mall.tenancy.models import Staff

    roles = list(Staff.Role)
    with translation.override("en"):
        header = "| Menu | Page | " + " | ".join(str(r.label) for r in roles) + " |"
        lines = [header, "|" + "---|" * (len(roles) + 2)]
        for group in MENU:
            for entry in group.entries:
                link = entry_link(entry)
                if link is None:
                    continue
                cells = []
                for role in roles:
                    request = RequestFactory().get(link)
                    request.staff = Staff(role=role)  # type: ignore[attr-defined]
                    if entry_edit_permission(entry)(request):
                        cells.append("edit")
                    elif entry_permission(entry)(request):
                        cells.append("view")
                    else:
                        cells.append("-")
                lines.append(f"| {group.title} | {entry.title} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
