"""Shipping fees: a pure function over plain data, so checkout can price without touching rows.

``freight_terms_from_template`` turns a FreightTemplate (with its rules prefetched) into
``FreightTerms``; ``freight_price`` prices lines shipped to a province under those terms.
Lines under different templates are priced per template and the fees added (checkout).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext

from catalog.errors import CatalogErrorCode
from catalog.models import ChargeBy, FreightTemplate

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class FeeSchedule:
    first_units: int
    first_fee: Decimal
    additional_units: int
    additional_fee: Decimal

    def fee_for(self, units: int) -> Decimal:
        if units <= 0:
            return ZERO
        fee = self.first_fee
        extra = units - self.first_units
        if extra > 0:
            blocks = -(-extra // self.additional_units)  # started blocks count in full
            fee += self.additional_fee * blocks
        return fee.quantize(ZERO)


@dataclass(frozen=True)
class FreightTerms:
    charge_by: str
    default: FeeSchedule
    # (province codes, schedule), first match wins
    rules: tuple[tuple[frozenset[str], FeeSchedule], ...] = ()
    free_shipping_threshold: Decimal | None = None
    undeliverable_provinces: frozenset[str] = frozenset()

    def schedule_for(self, province: str) -> FeeSchedule:
        for provinces, schedule in self.rules:
            if province in provinces:
                return schedule
        return self.default


@dataclass(frozen=True)
class FreightLine:
    quantity: int
    weight_grams: int  # per piece
    amount: Decimal  # goods amount of the line (after discounts, as checkout decides)


@dataclass(frozen=True)
class FreightProblem:
    code: str
    message: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FreightQuote:
    fee: Decimal
    deliverable: bool
    free_shipping: bool = False
    units: int = 0
    problem: FreightProblem | None = None


def freight_price(
    *, terms: FreightTerms, lines: Sequence[FreightLine], province: str
) -> FreightQuote:
    """Price shipping of ``lines`` to ``province`` (a 2-digit province code) under ``terms``."""
    province = (province or "").strip()[:2]
    if province in terms.undeliverable_provinces:
        return FreightQuote(
            fee=ZERO,
            deliverable=False,
            problem=FreightProblem(
                code=CatalogErrorCode.UNDELIVERABLE,
                message=gettext("These goods cannot be delivered to this region."),
                details={"province": province},
            ),
        )
    if terms.charge_by == ChargeBy.WEIGHT:
        units = sum(line.quantity * line.weight_grams for line in lines)
    else:
        units = sum(line.quantity for line in lines)
    amount = sum((line.amount for line in lines), ZERO)
    threshold = terms.free_shipping_threshold
    if threshold is not None and amount >= threshold:
        return FreightQuote(fee=ZERO, deliverable=True, free_shipping=True, units=units)
    fee = terms.schedule_for(province).fee_for(units)
    return FreightQuote(fee=fee, deliverable=True, units=units)


def _schedule(obj: object) -> FeeSchedule:
    return FeeSchedule(
        first_units=obj.first_units,  # type: ignore[attr-defined]
        first_fee=obj.first_fee,  # type: ignore[attr-defined]
        additional_units=obj.additional_units,  # type: ignore[attr-defined]
        additional_fee=obj.additional_fee,  # type: ignore[attr-defined]
    )


def freight_terms_from_template(template: FreightTemplate) -> FreightTerms:
    """Plain terms of a template; prefetch ``rules`` to keep it to one query per template."""
    return FreightTerms(
        charge_by=template.charge_by,
        default=_schedule(template),
        rules=tuple(
            (frozenset(str(p) for p in rule.provinces), _schedule(rule))
            for rule in template.rules.all()
        ),
        free_shipping_threshold=template.free_shipping_threshold,
        undeliverable_provinces=frozenset(str(p) for p in template.undeliverable_provinces),
    )
