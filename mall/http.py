"""Request types for annotations: the attributes that the tenancy middleware and the API's
authentication add to a request (``mall.tenancy.middleware``, ``mall.api.authentication``).

Nothing creates these classes; a view annotates ``request: TenantRequest`` (DRF) or
``request: TenantHttpRequest`` (Django, the console) so that mypy knows the attributes.
They are typed as present: the views that read them sit behind the middleware that sets them
(a shopper view has its channel, a merchant view its API key, a console view its staff).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request

from mall.tenancy.models import ApiKey, Channel, Staff, Tenant


class TenantHttpRequest(HttpRequest):
    tenant: Tenant
    channel: Channel
    api_key: ApiKey
    staff: Staff
    # The authenticated member (``members.Member``; members sits above mall, hence Any).
    member: Any


class TenantRequest(Request):
    _request: TenantHttpRequest
    tenant: Tenant
    channel: Channel
    api_key: ApiKey
    staff: Staff
