"""Actions of automation rules that other work fills in.

``points_granters``: empty by default; the points ledger's service is appended by the
integrator (``members.automation.actions.points_granters.append(grant)``). Each granter is
called once per batch, inside the batch's transaction, as
``granter(tenant_id=, member_ids=, points=, reason=, reference=)`` and must grant ``points`` to
every member listed (idempotent per ``reference`` + member: ``automation:<execution id>`` is
passed per member in ``references``). While the list is empty a rule's points are not granted
and the execution log shows 0 points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class PointsGranter(Protocol):
    def __call__(
        self,
        *,
        tenant_id: int,
        member_ids: Sequence[int],
        points: int,
        reason: str,
        references: Mapping[int, str],
    ) -> object: ...


points_granters: list[PointsGranter] = []
