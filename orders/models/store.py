"""Stores of a tenant: pickup points and the origin of same-city delivery."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class Store(TenantOwnedModel):
    name = models.CharField(max_length=100, verbose_name=_("name"))
    phone = models.CharField(max_length=20, blank=True, default="", verbose_name=_("phone"))
    province = models.CharField(max_length=32, blank=True, default="", verbose_name=_("province"))
    city = models.CharField(max_length=32, blank=True, default="", verbose_name=_("city"))
    district = models.CharField(max_length=32, blank=True, default="", verbose_name=_("district"))
    address = models.CharField(max_length=200, verbose_name=_("address"))
    hours = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text=_("e.g. 09:00-21:00"),
        verbose_name=_("hours"),
    )
    latitude = models.DecimalField(max_digits=9, decimal_places=6, verbose_name=_("latitude"))
    longitude = models.DecimalField(max_digits=9, decimal_places=6, verbose_name=_("longitude"))
    pickup_enabled = models.BooleanField(default=True, verbose_name=_("pickup enabled"))
    same_city_enabled = models.BooleanField(default=False, verbose_name=_("same city enabled"))
    # Same-city delivery fee by distance from the store, ascending:
    # [{"max_km": "3", "fee": "5.00"}, {"max_km": "8", "fee": "10.00"}]; beyond the last: refused.
    same_city_bands = models.JSONField(default=list, blank=True, verbose_name=_("same city bands"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90) & Q(latitude__lte=90), name="store_latitude_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180) & Q(longitude__lte=180),
                name="store_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def full_address(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.address}"
