"""Whether the sandbox channels and gateway may answer (a domain rule, no HTTP)."""

from __future__ import annotations

from django.conf import settings


def sandbox_allowed() -> bool:
    """Sandbox logins and payments answer themselves: allowed with ``DEBUG`` on, or when an
    operator sets ``MALL_ALLOW_SANDBOX`` (front-end work against a staging server)."""
    return bool(settings.DEBUG or settings.MALL_ALLOW_SANDBOX)
