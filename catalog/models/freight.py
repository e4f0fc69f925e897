"""Freight templates: per-tenant shipping fees by province, by piece or by weight."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class ChargeBy(models.TextChoices):
    PIECE = "piece", _("By piece")
    WEIGHT = "weight", _("By weight (grams)")


class FreightTemplate(TenantOwnedModel):
    """How a shop charges shipping. The template's own fees apply to provinces that no rule
    names; ``undeliverable_provinces`` (province codes, e.g. "54" for Tibet) cannot be shipped to.

    Units are pieces or grams depending on ``charge_by``: the first ``first_units`` cost
    ``first_fee``, each further started block of ``additional_units`` costs ``additional_fee``.
    """

    name = models.CharField(_("name"), max_length=64)
    charge_by = models.CharField(
        _("charge by"), max_length=8, choices=ChargeBy.choices, default=ChargeBy.PIECE
    )
    first_units = models.PositiveIntegerField(_("first units"), default=1)
    first_fee = models.DecimalField(_("first fee"), max_digits=12, decimal_places=2, default=0)
    additional_units = models.PositiveIntegerField(_("additional units"), default=1)
    additional_fee = models.DecimalField(
        _("additional fee"), max_digits=12, decimal_places=2, default=0
    )
    # Orders whose goods amount reaches this ship free (null: never free).
    free_shipping_threshold = models.DecimalField(
        _("free shipping threshold"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    undeliverable_provinces = models.JSONField(
        _("undeliverable provinces"), default=list, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("freight template")
        verbose_name_plural = _("freight templates")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="uniq_freight_template_name"),
            models.CheckConstraint(
                condition=Q(first_fee__gte=0) & Q(additional_fee__gte=0),
                name="freight_template_fees_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(first_units__gte=1) & Q(additional_units__gte=1),
                name="freight_template_units_gte_1",
            ),
            models.CheckConstraint(
                condition=Q(free_shipping_threshold__isnull=True)
                | Q(free_shipping_threshold__gte=0),
                name="freight_template_threshold_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FreightRule(TenantOwnedModel):
    """Fees for a set of provinces (codes such as "11" Beijing, "44" Guangdong)."""

    template = models.ForeignKey(
        FreightTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="rules"
    )
    provinces = models.JSONField(_("provinces"), default=list)
    first_units = models.PositiveIntegerField(_("first units"), default=1)
    first_fee = models.DecimalField(_("first fee"), max_digits=12, decimal_places=2, default=0)
    additional_units = models.PositiveIntegerField(_("additional units"), default=1)
    additional_fee = models.DecimalField(
        _("additional fee"), max_digits=12, decimal_places=2, default=0
    )
    position = models.IntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("freight rule")
        verbose_name_plural = _("freight rules")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_fee__gte=0) & Q(additional_fee__gte=0),
                name="freight_rule_fees_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(first_units__gte=1) & Q(additional_units__gte=1),
                name="freight_rule_units_gte_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template_id}: {','.join(self.provinces)}"
