"""The console's language: the staff member's saved choice, else the browser's.

``LocaleMiddleware`` picks the language from the ``django_language`` cookie or
``Accept-Language`` (default ``settings.LANGUAGE_CODE``, Simplified Chinese) for every request,
the shopper and open APIs included. ``ConsoleLanguageMiddleware`` (after ``TenantMiddleware``)
then applies ``Staff.language`` when the staff member saved one. ``language_view`` saves it
(the language switch in the console's user menu).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext

from mall.tenancy.models import Staff

if TYPE_CHECKING:
    from mall.console.site import ConsoleSite


class ConsoleLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        staff: Staff | None = getattr(request, "staff", None)
        if staff is not None and staff.language:
            translation.activate(staff.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


def language_view(site: ConsoleSite, request: HttpRequest) -> HttpResponse:
    """POST ``language`` (``zh-hans``, ``en`` or empty for the browser's): saved on every
    membership of the user, then back to ``next`` (or the page the switch was on)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    language = request.POST.get("language", "")
    if language not in Staff.Language.values:
        return HttpResponseBadRequest(gettext("Unknown language."))
    # Every membership of the user, in whichever shop: platform-wide by nature.
    Staff.objects.all_tenants().filter(user=request.user).update(language=language)
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("console:index", current_app=site.name)
    response = HttpResponseRedirect(target)
    # Also for the login page and other sites on this browser.
    if language:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


def language_action(request: HttpRequest) -> Any:
    """unfold's ``LANGUAGES["action"]``: the console saves on the staff profile."""
    from mall.console.menu import is_console_request

    if is_console_request(request):
        return reverse("console:language")
    return reverse("set_language")
