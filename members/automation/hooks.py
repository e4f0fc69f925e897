"""What automation asks of the apps above members (see docs/architecture.md, "Layers").

- ``register_trigger_source(kind, source)``: the members a swept trigger finds now.
  ``source(tenant_id=, days=, hours=, now=)`` answers ``(member_id, period_key)`` pairs; the
  period key makes the rule fire once per member per period (a birthday's year, a card's end).
  ``members`` registers birthday, dormant and card expiring; ``orders`` cart left for N hours;
  the points work registers points expiring (until then that trigger finds nobody).
- ``register_coupon_issuer(issuer)`` (``promotions``): ``issuer(tenant_id=, template_id=,
  member_ids=)`` issues one coupon of the template to each member and answers
  ``{member_id: (coupon_id or None, error code or "")}``; ``issuer.choices(tenant_id)`` lists the
  templates a rule may issue (``[(id, name)]``) for the console form.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol


class TriggerSource(Protocol):
    def __call__(
        self, *, tenant_id: int, days: int | None, hours: int | None, now: datetime
    ) -> Iterable[tuple[int, str]]: ...


class CouponIssuer(Protocol):
    def __call__(
        self, *, tenant_id: int, template_id: int, member_ids: Sequence[int]
    ) -> dict[int, tuple[int | None, str]]: ...

    def choices(self, tenant_id: int) -> list[tuple[int, str]]: ...


_sources: dict[str, TriggerSource] = {}
_coupon_issuers: list[CouponIssuer] = []


def register_trigger_source(kind: str, source: TriggerSource) -> None:
    _sources[kind] = source


def trigger_source(kind: str) -> TriggerSource | None:
    return _sources.get(kind)


def register_coupon_issuer(issuer: CouponIssuer) -> None:
    """Set the coupon issuer (one; registering again replaces it)."""
    _coupon_issuers[:] = [issuer]


def coupon_issuer() -> CouponIssuer | None:
    return _coupon_issuers[0] if _coupon_issuers else None
