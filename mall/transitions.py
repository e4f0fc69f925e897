"""Status machines: one ``TRANSITIONS`` table per status-bearing model and the one check that
every transition service calls.

A table maps each status to the statuses it may move to. A transition service (one per model,
``<entity>_transition``) locks or holds the row, calls ``transition_apply`` and saves: a move to
the status the row already has is a no-op (``False``: applying the same transition twice has
no second effect), a move the table does not list is refused with a 409 ``ApplicationError``.
Set-based moves (a guarded ``UPDATE``) take their guard from ``transition_sources``.

The table lives next to its model, named after it: ``<MODEL_NAME>_TRANSITIONS`` in the module
that defines the model (``Refund`` -> ``REFUND_TRANSITIONS`` in ``payments/models.py``,
``FollowUp`` -> ``FOLLOW_UP_TRANSITIONS``). ``transitions_for`` finds it by that name, and a
test walks every installed model with a ``status`` field and fails when one has none.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from mall.errors import ConflictError

Transitions = Mapping[str, frozenset[str]]

INVALID_TRANSITION = "invalid_transition"

# Builds the error for a refused move from (current, to): for the apps whose 409 carries its
# own wording (orders, campaigns), so that moving onto this module changes no message.
Refusal = Callable[[str, str], Exception]


def transitions_name(model: type) -> str:
    """``FollowUp`` -> ``FOLLOW_UP_TRANSITIONS`` (the name the table of ``model`` has)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).upper() + "_TRANSITIONS"


def transitions_for(model: type) -> Transitions | None:
    """The table of ``model`` (see the module docstring), None when it has none."""
    module = sys.modules.get(model.__module__)
    table = getattr(module, transitions_name(model), None)
    return table if isinstance(table, Mapping) else None


def transition_allowed(transitions: Transitions, current: str, to: str) -> bool:
    return to in transitions.get(current, frozenset())


def transition_sources(transitions: Transitions, to: str) -> list[str]:
    """The statuses a row may move to ``to`` from (the guard of a conditional ``UPDATE``)."""
    return sorted(status for status, targets in transitions.items() if to in targets)


def transition_check(
    transitions: Transitions,
    *,
    entity: str,
    current: str,
    to: str,
    code: str = INVALID_TRANSITION,
    refuse: Refusal | None = None,
) -> bool:
    """``True``: a legal move; ``False``: already there; raises ``ConflictError`` (or what
    ``refuse`` builds) otherwise."""
    if current == to:
        return False
    if not transition_allowed(transitions, current, to):
        if refuse is not None:
            raise refuse(current, to)
        raise ConflictError(
            code,
            _("A %(entity)s cannot go from %(current)s to %(to)s.")
            % {"entity": entity, "current": current, "to": to},
            details={"from": current, "to": to},
        )
    return True


def transition_apply(
    obj: Any,
    transitions: Transitions,
    to: str,
    *,
    entity: str,
    code: str = INVALID_TRANSITION,
    refuse: Refusal | None = None,
) -> bool:
    """Check the move of ``obj.status`` to ``to`` and set it (the caller saves, with the other
    fields the move changes). Returns whether the status changed."""
    changed = transition_check(
        transitions, entity=entity, current=obj.status, to=to, code=code, refuse=refuse
    )
    if changed:
        obj.status = to
    return changed


def transition_update(queryset: Any, transitions: Transitions, to: str, **fields: Any) -> int:
    """The set-based move: a conditional ``UPDATE`` of the rows whose status may go to ``to``
    (rows already there, or elsewhere, are left alone). Returns the number of rows moved."""
    return queryset.filter(status__in=transition_sources(transitions, to)).update(
        status=to, **fields
    )
