"""Write paths of the members domain."""

from members.services.addresses import address_create, address_delete, address_update
from members.services.login import (
    LoginResult,
    member_get_or_create_for_identity,
    member_login_alipay,
    member_login_wechat,
)
from members.services.merge import (
    keep_rows,
    member_merge_locked,
    member_relations,
    register_merge_handler,
)
from members.services.phone import (
    PhoneBindResult,
    member_bind_phone,
    member_bind_phone_by_code,
    member_phone_from_code,
)
from members.services.profile import member_update_profile
from members.services.tokens import MemberTokens, member_tokens_issue, member_tokens_refresh

__all__ = [
    "LoginResult",
    "MemberTokens",
    "PhoneBindResult",
    "address_create",
    "address_delete",
    "address_update",
    "keep_rows",
    "member_bind_phone",
    "member_bind_phone_by_code",
    "member_get_or_create_for_identity",
    "member_login_alipay",
    "member_login_wechat",
    "member_merge_locked",
    "member_phone_from_code",
    "member_relations",
    "member_tokens_issue",
    "member_tokens_refresh",
    "member_update_profile",
    "register_merge_handler",
]
