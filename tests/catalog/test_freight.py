from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from catalog.freight import (
    FeeSchedule,
    FreightLine,
    FreightTerms,
    freight_price,
    freight_terms_from_template,
)
from tests.catalog.factories import FreightRuleFactory, FreightTemplateFactory

D = Decimal


def _terms(**kwargs: Any) -> FreightTerms:
    base: dict[str, Any] = {
        "charge_by": "piece",
        "default": FeeSchedule(1, D("8.00"), 1, D("2.00")),
        "rules": ((frozenset({"54", "65"}), FeeSchedule(1, D("20.00"), 1, D("10.00"))),),
    }
    base.update(kwargs)
    return FreightTerms(**base)


def test_by_piece_first_and_additional() -> None:
    lines = [FreightLine(quantity=2, weight_grams=0, amount=D("30.00")),
             FreightLine(quantity=1, weight_grams=0, amount=D("10.00"))]  # fmt: skip
    quote = freight_price(terms=_terms(), lines=lines, province="44")
    assert quote.fee == D("12.00")  # 8 + 2 * 2
    assert quote.units == 3 and quote.deliverable


def test_region_rule_overrides_default() -> None:
    lines = [FreightLine(quantity=2, weight_grams=0, amount=D("30.00"))]
    assert freight_price(terms=_terms(), lines=lines, province="65").fee == D("30.00")


def test_by_weight_counts_started_blocks() -> None:
    terms = _terms(charge_by="weight", default=FeeSchedule(1000, D("10.00"), 500, D("3.00")))
    lines = [FreightLine(quantity=3, weight_grams=450, amount=D("99.00"))]  # 1350 g
    assert freight_price(terms=terms, lines=lines, province="11").fee == D("13.00")
    lines = [FreightLine(quantity=4, weight_grams=400, amount=D("99.00"))]  # 1600 g: 2 blocks
    assert freight_price(terms=terms, lines=lines, province="11").fee == D("16.00")
    lines = [FreightLine(quantity=2, weight_grams=500, amount=D("99.00"))]  # exactly first
    assert freight_price(terms=terms, lines=lines, province="11").fee == D("10.00")


def test_free_shipping_threshold_reached_exactly() -> None:
    terms = _terms(free_shipping_threshold=D("99.00"))
    lines = [FreightLine(quantity=3, weight_grams=0, amount=D("99.00"))]
    quote = freight_price(terms=terms, lines=lines, province="44")
    assert quote.fee == D("0.00") and quote.free_shipping
    lines = [FreightLine(quantity=3, weight_grams=0, amount=D("98.99"))]
    assert freight_price(terms=terms, lines=lines, province="44").fee == D("12.00")


def test_undeliverable_region_is_an_explicit_problem() -> None:
    terms = _terms(undeliverable_provinces=frozenset({"71"}), free_shipping_threshold=D("0"))
    lines = [FreightLine(quantity=1, weight_grams=0, amount=D("10.00"))]
    quote = freight_price(terms=terms, lines=lines, province="710000")
    assert not quote.deliverable
    assert quote.problem is not None and quote.problem.code == "undeliverable"
    assert quote.problem.details == {"province": "71"}


@pytest.mark.django_db
def test_terms_from_template(tenant: Any) -> None:
    template = FreightTemplateFactory(
        tenant=tenant, first_fee=D("6.00"), additional_fee=D("1.50"),
        free_shipping_threshold=D("88.00"), undeliverable_provinces=["54"],
    )  # fmt: skip
    FreightRuleFactory(template=template, provinces=["63"], first_fee=D("15.00"))
    terms = freight_terms_from_template(template)
    lines = [FreightLine(quantity=3, weight_grams=0, amount=D("20.00"))]
    assert freight_price(terms=terms, lines=lines, province="31").fee == D("9.00")
    assert freight_price(terms=terms, lines=lines, province="63").fee == D("15.00")
    assert not freight_price(terms=terms, lines=lines, province="54").deliverable
