"""Models of the ``mall`` app live in sub-packages; importing them here registers them."""

from mall.api.models import IdempotencyRecord
from mall.events.models import OutboxEvent
from mall.followups.models import FollowUp
from mall.tenancy.models import ApiKey, Channel, Staff, Tenant

__all__ = [
    "ApiKey",
    "Channel",
    "FollowUp",
    "IdempotencyRecord",
    "OutboxEvent",
    "Staff",
    "Tenant",
]
