from enum import StrEnum


class DistributionErrorCode(StrEnum):
    DISABLED = "distribution_disabled"
    NOT_A_DISTRIBUTOR = "not_a_distributor"
    ALREADY_DISTRIBUTOR = "already_distributor"
    NOT_ELIGIBLE = "not_eligible"
    INVITATION_REQUIRED = "invitation_required"
    UNKNOWN_CODE = "unknown_share_code"
    SELF_BINDING = "self_binding"
    BINDING_CYCLE = "binding_cycle"
    INVALID_TRANSITION = "invalid_transition"
    DISTRIBUTOR_FROZEN = "distributor_frozen"
    BELOW_MINIMUM = "withdrawal_below_minimum"
    DAILY_LIMIT = "withdrawal_daily_limit"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    PAYOUT_REFERENCE_REQUIRED = "payout_reference_required"
    PAYOUT_REFERENCE_USED = "payout_reference_used"
