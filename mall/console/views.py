"""Console pages that are not model admins: tenant switcher, tenant settings.

They are wired by ``ConsoleSite.get_urls`` through ``admin_view`` (login required, CSRF
protected, never cached) and rendered inside the admin layout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    QueryDict,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mall.console.forms import InvitationSignInForm, TenantSettingsForm, TenantSwitchForm
from mall.console.services import (
    TENANT_SETTINGS_FIELDS,
    console_tenant_switch,
    tenant_settings_update,
)
from mall.errors import ApplicationError
from mall.tenancy.invitations import (
    invitee_user,
    staff_invitation_accept,
    staff_invitation_accept_new_user,
    staff_invitation_for_token,
)
from mall.tenancy.models import Staff, Tenant

if TYPE_CHECKING:
    from mall.console.site import ConsoleSite

SETTINGS_VIEW_ROLES = frozenset({Staff.Role.OWNER, Staff.Role.ADMIN})
SETTINGS_EDIT_ROLES = frozenset({Staff.Role.OWNER})


def tenant_switch_view(site: ConsoleSite, request: HttpRequest) -> HttpResponse:
    """POST tenant_id: work in another shop the user is staff of; a foreign shop is a 404."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = TenantSwitchForm(request.POST)
    if not form.is_valid():
        raise Http404(_("No such shop."))
    staff = console_tenant_switch(
        session=request.session, user=request.user, tenant_id=form.cleaned_data["tenant_id"]
    )
    if staff is None:
        raise Http404(_("No such shop."))
    messages.success(request, _("Now working in %(shop)s.") % {"shop": staff.tenant.name})
    return HttpResponseRedirect(reverse("console:index", current_app=site.name))


def tenant_settings_view(site: ConsoleSite, request: HttpRequest) -> HttpResponse:
    """The shop's own settings: owners edit, administrators read."""
    staff: Any = request.staff  # type: ignore[attr-defined]
    if staff.role not in SETTINGS_VIEW_ROLES:
        raise PermissionDenied
    can_edit = staff.role in SETTINGS_EDIT_ROLES
    tenant = staff.tenant
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        # A fresh copy: an invalid form must not alter the request's tenant in memory.
        form = TenantSettingsForm(request.POST, instance=Tenant.objects.get(pk=tenant.pk))
        if form.is_valid():
            tenant_settings_update(
                tenant=form.instance,
                data={name: form.cleaned_data[name] for name in TENANT_SETTINGS_FIELDS},
            )
            messages.success(request, _("Shop settings saved."))
            return HttpResponseRedirect(reverse("console:tenant_settings", current_app=site.name))
    else:
        form = TenantSettingsForm(instance=tenant)
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    context = {
        **site.each_context(request),
        "title": _("Shop settings"),
        "form": form,
        "can_edit": can_edit,
        "tenant": tenant,
    }
    request.current_app = site.name
    return TemplateResponse(request, "console/tenant_settings.html", context)


def staff_invitation_accept_view(
    site: ConsoleSite, request: HttpRequest, token: str
) -> HttpResponse:
    """The invitee's page (no login needed): sign in to an existing account, or choose a
    password for a new one; then the membership is created and the invitee is logged in."""
    request.current_app = site.name
    context: dict[str, Any] = {**site.each_context(request), "title": _("Accept the invitation")}
    invitation = staff_invitation_for_token(raw_token=token)
    if invitation is None:
        return _invitation_invalid(request, context)
    user = invitee_user(email=invitation.email)
    data: QueryDict | None = request.POST if request.method == "POST" else None
    form: Any
    if user is not None:
        if data is not None:
            data = data.copy()
            data["username"] = user.get_username()
        form = InvitationSignInForm(request, data=data)
    else:
        form = SetPasswordForm(
            get_user_model()(username=invitation.email, email=invitation.email), data=data
        )
    if data is not None and form.is_valid():
        try:
            if user is not None:
                staff = staff_invitation_accept(raw_token=token, user=form.get_user())
            else:
                staff = staff_invitation_accept_new_user(
                    raw_token=token, password=form.cleaned_data["new_password1"]
                )
        except ApplicationError as exc:
            if exc.code == "invitation_invalid":
                return _invitation_invalid(request, context)
            form.add_error(None, exc.message)
        else:
            login(request, staff.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session["console_tenant_id"] = staff.tenant_id
            messages.success(
                request,
                _("Welcome to %(shop)s: you are now %(role)s.")
                % {"shop": staff.tenant.name, "role": staff.get_role_display()},
            )
            return HttpResponseRedirect(reverse("console:index", current_app=site.name))
    context.update(
        {
            "invitation": invitation,
            "has_account": user is not None,
            "form": form,
        }
    )
    return TemplateResponse(request, "console/invitation_accept.html", context)


def _invitation_invalid(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    return TemplateResponse(
        request,
        "console/invitation_invalid.html",
        {**context, "title": _("Invitation")},
        status=404,
    )
