"""Error codes of the members domain (raised with the kinds of ``mall.errors``)."""

from __future__ import annotations

from enum import StrEnum


class MemberErrorCode(StrEnum):
    WECHAT_LOGIN_FAILED = "wechat_login_failed"
    WECHAT_PHONE_FAILED = "wechat_phone_failed"
    ALIPAY_PHONE_FAILED = "alipay_phone_failed"
    ALIPAY_LOGIN_FAILED = "alipay_login_failed"
    UPSTREAM_UNAVAILABLE = "upstream_unavailable"
    UPSTREAM_INVALID = "upstream_invalid_response"
    CHANNEL_NOT_CONFIGURED = "channel_not_configured"
    PLATFORM_MISMATCH = "platform_mismatch"
    NOT_SUPPORTED = "not_supported"
    INVALID_TOKEN = "invalid_token"
    TOKEN_TENANT_MISMATCH = "token_tenant_mismatch"
    MEMBER_MERGED = "member_merged"
    MEMBER_DISABLED = "member_disabled"
    INVALID_PHONE = "invalid_phone"
    PHONE_UNAVAILABLE = "phone_unavailable"
    MERGE_CONFLICT = "merge_conflict"
    ADDRESS_LIMIT_REACHED = "address_limit_reached"
    DEFAULT_ADDRESS_REQUIRED = "default_address_required"
    INSUFFICIENT_POINTS = "insufficient_points"
    INVALID_POINTS = "invalid_points"
    ALREADY_CHECKED_IN = "already_checked_in"
