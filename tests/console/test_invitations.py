"""Staff join a shop only by an invitation they accept; inviting never reveals accounts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from mall.tenancy.models import Staff, StaffInvitation, Tenant
from tests.console.conftest import PASSWORD
from tests.mall.factories import UserFactory

Role = Staff.Role
NEW_PASSWORD = "a-good-long-password-77"
INVITE_URL = "/console/mall/staffinvitation/add/"


def _invite(client: Client, email: str, role: str = Role.OPERATOR) -> Any:
    return client.post(INVITE_URL, {"email": email, "role": role}, follow=True)


def _messages(response: Any, local_part: str) -> list[str]:
    """The page's messages, with the invited address's local part replaced by X."""
    return [str(m).replace(local_part, "X@") for m in response.context["messages"]]


def _link_of_last_mail() -> str:
    match = re.search(r"http://testserver(/console/invitation/[^/\s]+/)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_a_new_person_is_invited_accepts_and_logs_in_with_the_role(
    shop_a: Tenant, client_a: Client, owner_a: Staff
) -> None:
    response = _invite(client_a, "New.Clerk@Example.com", Role.SERVICE)

    assert response.status_code == 200
    assert "An invitation has been sent to new.clerk@example.com" in response.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.clerk@example.com"]
    assert "Alpha Tea House" in mail.outbox[0].subject
    assert not get_user_model().objects.filter(email="new.clerk@example.com").exists()
    invitation = StaffInvitation.objects.get(tenant=shop_a)
    link = _link_of_last_mail()
    assert link.split("/")[-2] not in invitation.token_hash  # only the hash is stored
    assert invitation.invited_by == owner_a.user

    invitee = Client()
    page = invitee.get(link)
    assert page.status_code == 200
    assert "Choose a password" in page.content.decode()
    accepted = invitee.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert accepted.status_code == 302 and accepted["Location"] == "/console/"
    staff = Staff.objects.get(tenant=shop_a, user__email="new.clerk@example.com")
    assert staff.role == Role.SERVICE and staff.is_active
    assert invitee.get("/console/").status_code == 200  # logged in by accepting
    login = Client().post(
        "/console/login/", {"username": "new.clerk@example.com", "password": NEW_PASSWORD}
    )
    assert login.status_code == 302
    invitation.refresh_from_db()
    assert invitation.accepted_by == staff.user and invitation.accepted_at is not None


def test_an_existing_account_accepts_with_its_password_which_is_unchanged(
    shop_a: Tenant, shop_b: Tenant, client_a: Client, make_staff: Callable[..., Staff]
) -> None:
    bravo_clerk = make_staff(shop_b, Role.OPERATOR, email="shared@example.com")
    _invite(client_a, "SHARED@example.com", Role.FINANCE)
    link = _link_of_last_mail()
    invitee = Client()

    assert "Enter your password" in invitee.get(link).content.decode()
    wrong = invitee.post(link, {"password": "not-my-password"})
    assert wrong.status_code == 200
    assert not Staff.objects.filter(tenant=shop_a, user=bravo_clerk.user).exists()
    accepted = invitee.post(link, {"password": PASSWORD})

    assert accepted.status_code == 302
    staff = Staff.objects.get(tenant=shop_a, user=bravo_clerk.user)
    assert staff.role == Role.FINANCE
    bravo_clerk.user.refresh_from_db()
    assert bravo_clerk.user.check_password(PASSWORD)
    assert Staff.objects.filter(tenant=shop_b, user=bravo_clerk.user, is_active=True).exists()


def test_the_inviter_sees_the_same_answer_for_an_existing_and_a_new_address(
    shop_a: Tenant, client_a: Client
) -> None:
    UserFactory(username="known@example.com")

    # One instant for both: the mail states the expiry to the minute (a slow run crossed one).
    with time_machine.travel(timezone.now(), tick=False):
        known = _invite(client_a, "known@example.com")
        unknown = _invite(client_a, "unknown@example.com")

    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    assert _messages(known, "known@") == _messages(unknown, "unknown@")
    assert _messages(known, "known@") == ["An invitation has been sent to X@example.com."]
    rows = StaffInvitation.objects.filter(tenant=shop_a).order_by("id")
    assert [(r.role, r.status_at(timezone.now())) for r in rows] == [("operator", "pending")] * 2
    assert [m.to for m in mail.outbox] == [["known@example.com"], ["unknown@example.com"]]
    assert mail.outbox[0].subject == mail.outbox[1].subject
    bodies = [re.sub(r"/console/invitation/\S+", "LINK", m.body) for m in mail.outbox]
    assert bodies[0] == bodies[1]


def test_the_add_staff_page_now_invites(client_a: Client) -> None:
    response = client_a.get("/console/mall/staff/add/")

    assert response.status_code == 302 and response["Location"] == INVITE_URL
    assert client_a.post("/console/mall/staff/add/", {"email": "x@example.com"}).status_code == 302
    assert not get_user_model().objects.filter(email="x@example.com").exists()
    assert not Staff.objects.filter(user__email="x@example.com").exists()


def test_a_used_token_is_refused(shop_a: Tenant, client_a: Client) -> None:
    _invite(client_a, "once@example.com")
    link = _link_of_last_mail()
    Client().post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = Client().post(link, {"password": NEW_PASSWORD})

    assert again.status_code == 404
    assert "invalid, has expired, was revoked or was already used" in again.content.decode()
    assert Staff.objects.filter(tenant=shop_a).count() == 2  # the owner and the one accepted


def test_an_expired_token_is_refused(shop_a: Tenant, client_a: Client) -> None:
    _invite(client_a, "late@example.com")
    link = _link_of_last_mail()

    with time_machine.travel(timezone.now() + timedelta(days=7, seconds=1)):
        page = Client().get(link)
        post = Client().post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert page.status_code == post.status_code == 404
    assert not get_user_model().objects.filter(email="late@example.com").exists()


def test_a_revoked_token_is_refused_and_revoking_is_listed(
    shop_a: Tenant, client_a: Client
) -> None:
    _invite(client_a, "revoked@example.com")
    link = _link_of_last_mail()
    invitation = StaffInvitation.objects.get(tenant=shop_a, email="revoked@example.com")
    listing = client_a.get("/console/mall/staffinvitation/")
    assert "revoked@example.com" in listing.content.decode()
    assert "Pending" in listing.content.decode()

    client_a.post(
        "/console/mall/staffinvitation/",
        {"action": "revoke_selected", "_selected_action": [invitation.pk]},
    )

    assert "Revoked" in client_a.get("/console/mall/staffinvitation/").content.decode()
    response = Client().post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 404
    assert not Staff.objects.filter(user__email="revoked@example.com").exists()


def test_a_new_invitation_replaces_the_pending_one(client_a: Client) -> None:
    _invite(client_a, "twice@example.com")
    first = _link_of_last_mail()
    _invite(client_a, "twice@example.com")
    second = _link_of_last_mail()

    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200


def test_a_made_up_token_is_refused(db: Any) -> None:
    assert Client().get("/console/invitation/not-a-real-token/").status_code == 404


def test_only_an_owner_invites_an_owner(shop_a: Tenant, as_role: Callable[[str], Client]) -> None:
    response = as_role(Role.ADMIN).post(INVITE_URL, {"email": "boss@example.com", "role": "owner"})

    assert response.status_code == 200
    assert "role" in response.context["form"].errors
    assert mail.outbox == []
    assert not StaffInvitation.objects.filter(tenant=shop_a).exists()


def test_operators_cannot_invite(as_role: Callable[[str], Client]) -> None:
    client = as_role(Role.OPERATOR)

    assert client.get(INVITE_URL).status_code == 403
    assert client.post(INVITE_URL, {"email": "a@example.com", "role": "service"}).status_code == 403
    assert mail.outbox == []


def test_inviting_a_current_staff_member_says_so(
    shop_a: Tenant, client_a: Client, make_staff: Callable[..., Staff]
) -> None:
    make_staff(shop_a, Role.OPERATOR, email="clerk@example.com")

    response = client_a.post(INVITE_URL, {"email": "Clerk@example.com", "role": "service"})

    assert response.status_code == 200
    assert "already a staff member of this shop" in response.content.decode()
    assert mail.outbox == []


def test_another_shops_invitations_are_not_listed(
    shop_a: Tenant, shop_b: Tenant, client_a: Client, client_b: Client
) -> None:
    _invite(client_b, "bravo-only@example.com")

    listing = client_a.get("/console/mall/staffinvitation/")

    assert listing.status_code == 200
    assert "bravo-only@example.com" not in listing.content.decode()
