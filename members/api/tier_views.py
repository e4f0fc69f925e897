"""Shopper API of tiers and the paid card in force: ``/me/tier`` and ``/me/card``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.views import MemberAPIView
from members.api.tier_serializers import MeCardSerializer, MeTierSerializer
from members.cards.selectors import member_card_in_force
from members.tiers.selectors import member_tier_progress

ERRORS = {401: OpenApiResponse(description="Missing, invalid, expired or foreign token")}


class MeTierView(MemberAPIView):
    @extend_schema(
        operation_id="me_tier_retrieve",
        summary="The member's tier, progress to the next and the next review",
        description="Growth comes from completed orders (per yuan kept, after the after-sale "
        "window) and check-ins. `review_at`: the tier is kept if `keep_growth_needed` more "
        "growth is earned before then, else the member drops one tier.",
        responses={200: MeTierSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        progress = member_tier_progress(member=self.member)
        return Response(
            MeTierSerializer(
                {
                    "tier": progress.tier,
                    "next_tier": progress.next_tier,
                    "growth": progress.growth,
                    "growth_to_next": progress.growth_to_next,
                    "review_at": progress.review_at,
                    "keep_growth_needed": progress.keep_growth_needed,
                }
            ).data
        )


class MeCardView(MemberAPIView):
    @extend_schema(
        operation_id="me_card_retrieve",
        summary="The member's paid card in force and its benefits",
        description="All fields null without a running card (buy one: /member-cards).",
        responses={200: MeCardSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        found = member_card_in_force(member=self.member)
        body: dict[str, Any] = {"plan": None, "starts_at": None, "ends_at": None, "benefits": None}
        if found is not None:
            card, plan = found.card, found.card.plan
            body.update(starts_at=card.starts_at, ends_at=card.ends_at)
            if plan is not None:
                body["plan"] = {"id": plan.pk, "name": plan.name}
                body["benefits"] = {
                    "price_rate": plan.price_rate,
                    "free_shipping": plan.free_shipping,
                    "points_multiplier": plan.points_multiplier,
                    "coupons": [
                        {"template_id": c.template_id, "name": c.name, "quantity": c.quantity}
                        for c in found.coupons
                    ],
                    "extra": plan.benefits,
                }
        return Response(MeCardSerializer(body).data)
