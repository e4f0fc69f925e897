"""Write paths of distribution (see the submodules); the entry points other apps call."""

from distribution.services.commissions import (
    attribution_snapshot,
    commissions_create_for_order,
    commissions_reverse_for_refund,
    line_commissions,
)
from distribution.services.common import settings_get
from distribution.services.distributors import (
    binding_bind,
    binding_from_scene,
    distributor_apply,
    distributor_approve,
    distributor_freeze,
    distributor_reject,
    distributor_unfreeze,
)
from distribution.services.grades import distributor_grades_review, distributor_grades_review_all
from distribution.services.ledger import ledger_balance
from distribution.services.rewards import team_rewards_compute, team_rewards_compute_all
from distribution.services.settlement import SettleResult, commissions_settle_due
from distribution.services.withdrawals import (
    withdrawal_approve,
    withdrawal_mark_paid,
    withdrawal_reject,
    withdrawal_request,
)

__all__ = [
    "SettleResult",
    "attribution_snapshot",
    "binding_bind",
    "binding_from_scene",
    "commissions_create_for_order",
    "commissions_reverse_for_refund",
    "commissions_settle_due",
    "distributor_apply",
    "distributor_approve",
    "distributor_freeze",
    "distributor_grades_review",
    "distributor_grades_review_all",
    "distributor_reject",
    "distributor_unfreeze",
    "ledger_balance",
    "line_commissions",
    "settings_get",
    "team_rewards_compute",
    "team_rewards_compute_all",
    "withdrawal_approve",
    "withdrawal_mark_paid",
    "withdrawal_reject",
    "withdrawal_request",
]
