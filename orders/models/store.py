"""Stores of a tenant: pickup points and the origin of same-city delivery."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from mall.tenancy.scoping import TenantOwnedModel


class Store(TenantOwnedModel):
    name = models.CharField(max_length=100)
    phone = models.CharField(max_length=20, blank=True, default="")
    province = models.CharField(max_length=32, blank=True, default="")
    city = models.CharField(max_length=32, blank=True, default="")
    district = models.CharField(max_length=32, blank=True, default="")
    address = models.CharField(max_length=200)
    hours = models.CharField(max_length=100, blank=True, default="", help_text="e.g. 09:00-21:00")
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    pickup_enabled = models.BooleanField(default=True)
    same_city_enabled = models.BooleanField(default=False)
    # Same-city delivery fee by distance from the store, ascending:
    # [{"max_km": "3", "fee": "5.00"}, {"max_km": "8", "fee": "10.00"}]; beyond the last: refused.
    same_city_bands = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
