"""Console pages of a distributor beyond the model admin: its team tree and its statement
(XLSX). Mixed into ``DistributorAdmin``; the distributor is fetched through the admin's
tenant-scoped queryset, so another shop's distributor is a 404."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from distribution.models import Distributor
from distribution.statements import distributor_statement, statement_xlsx, team_tree
from mall.console.admin import request_role
from mall.tenancy.models import Staff
from orders.models import Order

STATEMENT_ROLES = frozenset(
    {Staff.Role.OWNER, Staff.Role.ADMIN, Staff.Role.FINANCE, Staff.Role.OPERATOR}
)


class StatementPeriodForm(forms.Form):
    start = forms.DateField(label=_("Start"), required=False, help_text=_("YYYY-MM-DD, included"))
    end = forms.DateField(label=_("End"), required=False, help_text=_("YYYY-MM-DD, included"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The start must not be after the end."))
        return data


class DistributorConsoleMixin:
    """Adds ``<id>/team/`` and ``<id>/statement/`` to the distributor admin."""

    admin_site: Any
    model: type[Model]

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "<int:distributor_id>/team/",
                self.admin_site.admin_view(self.team_view),
                name="distribution_distributor_team",
            ),
            path(
                "<int:distributor_id>/statement/",
                self.admin_site.admin_view(self.statement_view),
                name="distribution_distributor_statement",
            ),
        ]
        return extra + super().get_urls()  # type: ignore[misc]

    @staticmethod
    def console_links(obj: Distributor) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("console:distribution_distributor_team", args=[obj.pk]),
            gettext("team"),
            reverse("console:distribution_distributor_statement", args=[obj.pk]),
            gettext("statement"),
        )

    def _distributor(self, request: HttpRequest, distributor_id: int) -> Distributor:
        found = self.get_object(request, str(distributor_id))  # type: ignore[attr-defined]
        if found is None:
            raise Http404("No such distributor.")
        if not self.has_view_permission(request, found):  # type: ignore[attr-defined]
            raise PermissionDenied
        return found

    def team_view(self, request: HttpRequest, distributor_id: int) -> HttpResponse:
        distributor = self._distributor(request, distributor_id)
        tree = team_tree(tenant=request.tenant, distributor=distributor)  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Team of %(code)s") % {"code": distributor.share_code},
            "opts": self.model._meta,
            "original": distributor,
            "tree": tree,
        }
        return TemplateResponse(request, "console/distribution/team_tree.html", context)

    def statement_view(self, request: HttpRequest, distributor_id: int) -> HttpResponse:
        """GET with ``?start=&end=&format=xlsx`` downloads; without ``format`` shows the form."""
        distributor = self._distributor(request, distributor_id)
        if request_role(request) not in STATEMENT_ROLES:
            raise PermissionDenied
        form = StatementPeriodForm(request.GET or None)
        tenant = request.tenant  # type: ignore[attr-defined]
        if form.is_bound and form.is_valid() and request.GET.get("format") == "xlsx":
            start: date | None = form.cleaned_data.get("start")
            end: date | None = form.cleaned_data.get("end")
            statement = distributor_statement(
                tenant=tenant, distributor=distributor, start=start, end=end
            )
            body = statement_xlsx(tenant=tenant, statement=statement)
            name = f"statement-{distributor.share_code}-{start or 'all'}-{end or 'now'}.xlsx"
            response = HttpResponse(
                body,
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Statement of %(code)s") % {"code": distributor.share_code},
            "opts": self.model._meta,
            "original": distributor,
            "form": form if form.is_bound else StatementPeriodForm(),
        }
        return TemplateResponse(request, "console/distribution/statement.html", context)


def order_distribution_lines(order: Order) -> list[str]:
    """The commission chain frozen at checkout (``Order.distribution``), tier 1 first, with each
    distributor's member and share code (one query): the order page of the console, through
    ``orders.hooks.distribution_lines``."""
    snapshot = order.distribution or {}
    if not snapshot:
        return [gettext("No distribution snapshot on this order.")]
    if not snapshot.get("enabled", False):
        return [gettext("Distribution was off when the order was placed.")]
    chain = [c for c in snapshot.get("chain") or [] if isinstance(c, dict)]
    if not chain:
        return [gettext("No distributor earns on this order.")]
    ids = [c.get("distributor_id") for c in chain]
    found = {
        d.pk: d
        for d in Distributor.objects.filter(tenant_id=order.tenant_id, pk__in=ids).select_related(
            "member"
        )
    }
    lines = []
    for item in chain:
        distributor = found.get(item.get("distributor_id"))
        who = (
            gettext("%(member)s (share code %(code)s)")
            % {"member": distributor.member, "code": distributor.share_code}
            if distributor is not None
            else gettext("distributor #%(id)s (deleted)") % {"id": item.get("distributor_id")}
        )
        lines.append(gettext("Tier %(tier)s: %(who)s") % {"tier": item.get("tier"), "who": who})
    if snapshot.get("buyer_distributor_id"):
        lines.append(gettext("The buyer is a distributor."))
    return lines
