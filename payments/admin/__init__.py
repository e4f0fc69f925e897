"""Console registrations of payments, one module per sub-domain: payments (``collection``),
refunds (retry failed ones), gateway configurations, payouts, WeChat shipping uploads (pending
/ failed, retry), reconciliation runs with their mismatches and the settlement ledger
(``reconciliation``), profit sharing; ``common`` holds the roles and the read-only mixin.
Imported in the order the models were registered in before the split (the console lists them
in registration order)."""

from __future__ import annotations

# isort: off
from payments.admin import common, collection, refunds, gateways, payouts  # noqa: F401
from payments.admin import shipping, reconciliation, profit_sharing  # noqa: F401

# isort: on
from payments.admin.common import FINANCE_ROLES, SETTLEMENT_ROLES, ReadOnlyMixin, Role
from payments.dashboard import dashboard_register

__all__ = ["FINANCE_ROLES", "SETTLEMENT_ROLES", "ReadOnlyMixin", "Role"]

dashboard_register()
