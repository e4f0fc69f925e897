"""Building blocks every app uses to register its models into the tenant-scoped console.

``TenantScopedModelAdmin`` and ``TenantScopedInline`` scope everything an admin page
touches to ``request.tenant`` (set by ``TenantMiddleware`` from the staff membership):

- querysets (changelist, change/delete/history views, autocomplete, inline formsets);
- the ``tenant`` column never appears in a form; it is set from the request before
  validation (so unique constraints that include ``tenant`` are checked) and on save;
- choices of foreign keys / many-to-many fields to tenant-owned models, list filters on
  them and raw-id labels;
- a missing or foreign object id answers 404 (the stock admin redirects with a message);
- permissions come from the staff role (``view_roles`` / ``edit_roles``), not from
  Django's auth permissions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, TypeVar

from django import forms
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.admin import StackedInline as UnfoldStackedInline
from unfold.admin import TabularInline as UnfoldTabularInline
from unfold.overrides import FORMFIELD_OVERRIDES_INLINE as FORMFIELD_OVERRIDES_INLINE_BASE
from unfold.widgets import UnfoldForeignKeyRawIdWidget

from mall.tenancy.models import Staff
from mall.tenancy.scoping import all_tenants

_FormT = TypeVar("_FormT", bound=forms.BaseForm)

Role = Staff.Role
ALL_ROLES: frozenset[str] = frozenset(Role.values)
MANAGER_ROLES: frozenset[str] = frozenset({Role.OWNER, Role.ADMIN})


def is_tenant_owned(model: type[models.Model]) -> bool:
    """True when the model has a ``tenant`` foreign key to ``mall.Tenant``."""
    try:
        field = model._meta.get_field("tenant")
    except FieldDoesNotExist:
        return False
    related = getattr(field, "related_model", None)
    return related is not None and related._meta.label == "mall.Tenant"


def request_tenant_id(request: HttpRequest) -> int | None:
    tenant = getattr(request, "tenant", None)
    return tenant.pk if tenant is not None else None


def request_role(request: HttpRequest) -> str | None:
    staff = getattr(request, "staff", None)
    return staff.role if staff is not None else None


class TenantFormMixin:
    """Puts the console tenant on the instance before validation.

    Unique constraints that include ``tenant`` are then validated by the form (instead of
    failing as an IntegrityError on save), and ``Model.clean()`` can compare tenants.
    """

    console_tenant: Any = None
    instance: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.console_tenant is not None and getattr(self.instance, "tenant_id", None) is None:
            self.instance.tenant = self.console_tenant

    def _get_validation_exclusions(self) -> set[str]:
        exclude: set[str] = super()._get_validation_exclusions()  # type: ignore[misc]
        if getattr(self.instance, "tenant_id", None) is not None:
            exclude.discard("tenant")
        return exclude


def tenant_form_class(form: type[_FormT], tenant: Any) -> type[_FormT]:
    """A per-request subclass of ``form`` bound to ``tenant``."""
    bases = (form,) if issubclass(form, TenantFormMixin) else (TenantFormMixin, form)
    return type(form.__name__, bases, {"console_tenant": tenant, "__module__": form.__module__})


class TenantFormSetMixin:
    """Inline formsets: the hidden primary key of each row is looked up among the tenant's
    objects only (Django checks it against the model's whole table)."""

    console_tenant: Any = None

    def add_fields(self, form: forms.BaseForm, index: int | None) -> None:
        super().add_fields(form, index)  # type: ignore[misc]
        field = form.fields.get(self._pk_field.name)  # type: ignore[attr-defined]
        queryset = getattr(field, "queryset", None)
        if self.console_tenant is not None and hasattr(queryset, "for_tenant"):
            field.queryset = queryset.for_tenant(self.console_tenant)  # type: ignore[union-attr]


class ScopedForeignKeyRawIdWidget(UnfoldForeignKeyRawIdWidget):
    """Does not print the label of another tenant's object next to a raw id input."""

    tenant_id: int | None = None

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        key = self.rel.get_related_field().name
        try:
            owned = (
                self.rel.model._default_manager.using(self.db)
                .filter(tenant_id=self.tenant_id, **{key: value})
                .exists()
            )
        except (ValueError, TypeError, forms.ValidationError):
            owned = False
        if not owned:
            return "", ""
        # Owned: checked above within the tenant; Django's label lookup goes by key only.
        with all_tenants():
            return super().label_and_url_for_value(value)


class TenantRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-object list filter offering only the request tenant's objects."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list:
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False,
            ordering=ordering,
            limit_choices_to={"tenant_id": request_tenant_id(request)},
        )


class RolePermissionsMixin:
    """Permissions from the staff role. Subclasses set ``view_roles`` / ``edit_roles``.

    ``add_roles`` / ``delete_roles`` default to ``edit_roles``; edit implies view.
    """

    view_roles: Iterable[str] = ALL_ROLES
    edit_roles: Iterable[str] = MANAGER_ROLES
    add_roles: Iterable[str] | None = None
    delete_roles: Iterable[str] | None = None

    def _role_in(self, request: HttpRequest, roles: Iterable[str] | None) -> bool:
        role = request_role(request)
        if role is None:
            return False
        return role in set(self.edit_roles if roles is None else roles)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._role_in(request, self.view_roles) or self._role_in(request, self.edit_roles)

    def has_module_permission(self, request: HttpRequest) -> bool:
        # The stock check asks Django's auth for ``app_label`` module permissions, which
        # merchant staff never have: the app list, sidebar and section pages were empty.
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._role_in(request, self.add_roles)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._role_in(request, self.edit_roles)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._role_in(request, self.delete_roles)


# Django 6 changes URLField's default scheme; opt in to https now (and silence the warning).
FORMFIELD_OVERRIDES: dict[type[models.Field], dict[str, Any]] = {
    models.URLField: {"assume_scheme": "https"},
}


class TenantScopingMixin:
    """Shared by model admins and inlines: queryset, form and choice scoping."""

    model: type[models.Model]
    formfield_overrides: ClassVar[dict[Any, Any]] = FORMFIELD_OVERRIDES

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)  # type: ignore[misc]
        tenant_id = request_tenant_id(request)
        if tenant_id is None:
            return qs.none()
        return qs.filter(tenant_id=tenant_id)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        exclude = list(super().get_exclude(request, obj) or [])  # type: ignore[misc]
        if "tenant" not in exclude:
            exclude.append("tenant")
        return exclude

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = super().get_fields(request, obj)  # type: ignore[misc]
        return [f for f in fields if f != "tenant"]

    def _scope_choice_field(self, db_field: Any, request: HttpRequest, field: Any) -> Any:
        if field is None or not is_tenant_owned(db_field.remote_field.model):
            return field
        tenant_id = request_tenant_id(request)
        if hasattr(field, "queryset") and field.queryset is not None:
            field.queryset = field.queryset.filter(tenant_id=tenant_id)
        widget = getattr(field.widget, "widget", field.widget)  # unwrap RelatedFieldWidgetWrapper
        if type(widget) in (ForeignKeyRawIdWidget, UnfoldForeignKeyRawIdWidget):
            widget.__class__ = ScopedForeignKeyRawIdWidget
            widget.tenant_id = tenant_id
        return field

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        return self._scope_choice_field(db_field, request, field)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        return self._scope_choice_field(db_field, request, field)


class TenantScopedModelAdmin(TenantScopingMixin, RolePermissionsMixin, UnfoldModelAdmin):
    """Base class of every model admin registered into ``console_site`` (unfold-themed)."""

    view_on_site = False
    # Actions that change state: offered only to ``edit_roles``, also on read-only pages.
    edit_actions: tuple[str, ...] = ()

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if self.edit_actions and not self._role_in(request, self.edit_roles):
            for name in self.edit_actions:
                actions.pop(name, None)
        return actions

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change, **kwargs)
        return tenant_form_class(form, getattr(request, "tenant", None))

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any):
        form = super().get_changelist_form(request, **kwargs)
        return tenant_form_class(form, getattr(request, "tenant", None))

    def get_list_filter(self, request: HttpRequest) -> Sequence[Any]:
        scoped: list[Any] = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and "__" not in item:
                try:
                    field = self.model._meta.get_field(item)
                except FieldDoesNotExist:
                    scoped.append(item)
                    continue
                if field.related_model is not None and is_tenant_owned(field.related_model):
                    scoped.append((item, TenantRelatedFieldListFilter))
                    continue
            scoped.append(item)
        return scoped

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # The queryset already comes from get_queryset(); filter again so that a custom
        # queryset passed by a caller (e.g. autocomplete) can never widen the scope.
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return queryset.filter(tenant_id=request_tenant_id(request)), may_have_duplicates

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.tenant = request.tenant  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            if is_tenant_owned(type(obj)):
                obj.tenant = request.tenant  # type: ignore[attr-defined]
            obj.save()
        formset.save_m2m()

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        # Checked before the role permission checks of the change/delete/history views, so
        # another tenant's id is a 404 even on a page the role may not use.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object.")
        return obj

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str):
        # Another tenant's object and a missing one look the same: 404.
        raise Http404("No such object.")


class TenantScopedInline(TenantScopingMixin, RolePermissionsMixin, InlineModelAdmin):
    """Base of inlines inside console model admins (use the Stacked/Tabular subclasses)."""

    formfield_overrides = {**FORMFIELD_OVERRIDES_INLINE_BASE, **FORMFIELD_OVERRIDES}

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        formset = super().get_formset(request, obj, **kwargs)
        tenant = getattr(request, "tenant", None)
        formset.form = tenant_form_class(formset.form, tenant)
        return type(formset.__name__, (TenantFormSetMixin, formset), {"console_tenant": tenant})

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._role_in(request, self.add_roles)


class TenantScopedTabularInline(TenantScopedInline, UnfoldTabularInline):
    """A tabular inline with unfold's look."""


class TenantScopedStackedInline(TenantScopedInline, UnfoldStackedInline):
    """A stacked inline with unfold's look."""
