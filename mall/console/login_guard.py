"""Failed-login counters and lockouts for the console and platform admin logins.

Failures are counted per submitted account name (case-insensitive, whether or not such an
account exists, so a lock says nothing about existence) and per client IP, in the default
cache (Redis in production, the local-memory cache without ``REDIS_URL``):

- ``CONSOLE_LOGIN_ACCOUNT_FAILURES`` failures of one account name within
  ``CONSOLE_LOGIN_WINDOW_SECONDS`` lock that account name for ``CONSOLE_LOGIN_LOCKOUT_SECONDS``,
  from every IP;
- ``CONSOLE_LOGIN_IP_FAILURES`` failures from one IP within the window lock that IP for the
  same time, whatever account it tries.

A lock refuses the login before the password is checked. A successful login clears the
account's counter (not the IP's: one valid account must not reset a guessing IP). Each lock
is logged as a warning. The window is fixed: it starts with the first failure counted.

The lock stores its end time and is compared with the clock here (the cache timeout is only a
backstop), so a lock ends on time on any cache backend.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

PREFIX = "console-login"


@dataclass(frozen=True)
class LoginLimits:
    account_failures: int
    ip_failures: int
    window_seconds: int
    lockout_seconds: int


def login_limits() -> LoginLimits:
    return LoginLimits(
        account_failures=settings.CONSOLE_LOGIN_ACCOUNT_FAILURES,
        ip_failures=settings.CONSOLE_LOGIN_IP_FAILURES,
        window_seconds=settings.CONSOLE_LOGIN_WINDOW_SECONDS,
        lockout_seconds=settings.CONSOLE_LOGIN_LOCKOUT_SECONDS,
    )


def _account_id(username: str) -> str:
    normalized = username.strip().casefold()
    return hashlib.sha256(normalized.encode()).hexdigest()[:32]


def _keys(kind: str, ident: str) -> tuple[str, str]:
    return f"{PREFIX}:fail:{kind}:{ident}", f"{PREFIX}:lock:{kind}:{ident}"


def _subjects(username: str, ip: str | None) -> list[tuple[str, str, str]]:
    """(kind, cache id, label for logs) of what a login attempt is counted against."""
    subjects = [("account", _account_id(username), username.strip()[:150])]
    if ip:
        subjects.append(("ip", ip, ip))
    return subjects


def _locked(kind: str, ident: str) -> bool:
    _, lock_key = _keys(kind, ident)
    until = cache.get(lock_key)
    return until is not None and float(until) > time.time()


def login_locked(*, username: str, ip: str | None) -> bool:
    """True when the account name or the IP is locked now."""
    return any(_locked(kind, ident) for kind, ident, _ in _subjects(username, ip))


def login_failure_record(*, username: str, ip: str | None) -> bool:
    """Count a failed login; True when this failure locked the account name or the IP."""
    limits = login_limits()
    thresholds = {"account": limits.account_failures, "ip": limits.ip_failures}
    locked_now = False
    for kind, ident, label in _subjects(username, ip):
        fail_key, lock_key = _keys(kind, ident)
        cache.add(fail_key, 0, timeout=limits.window_seconds)
        try:
            failures = cache.incr(fail_key)
        except ValueError:  # expired between add and incr
            cache.set(fail_key, 1, timeout=limits.window_seconds)
            failures = 1
        if failures >= thresholds[kind]:
            until = time.time() + limits.lockout_seconds
            cache.set(lock_key, until, timeout=limits.lockout_seconds + 60)
            cache.delete(fail_key)  # after the lock, a fresh window
            locked_now = True
            logger.warning(
                "Console login locked: %s %s after %d failures, for %d s (last IP %s)",
                kind,
                label,
                failures,
                limits.lockout_seconds,
                ip or "unknown",
            )
    return locked_now


def login_success_record(*, username: str) -> None:
    """A successful login clears the account name's failure counter."""
    fail_key, _ = _keys("account", _account_id(username))
    cache.delete(fail_key)


def client_ip(meta: dict) -> str | None:
    """The client's IP: ``REMOTE_ADDR``, or with ``MALL_NUM_PROXIES`` = n > 0 trusted reverse
    proxies in front, the n-th address from the right of ``X-Forwarded-For``."""
    remote = (meta.get("REMOTE_ADDR") or "").strip() or None
    proxies = settings.MALL_NUM_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [p.strip() for p in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if not forwarded:
        return remote
    return forwarded[-min(proxies, len(forwarded))]
