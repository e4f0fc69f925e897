from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from mall.tenancy.models import Channel, Staff, Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"shop-{n}")
    name = factory.Sequence(lambda n: f"Shop {n}")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    tenant = factory.SubFactory(TenantFactory)
    platform = Channel.Platform.WECHAT
    app_id = factory.Sequence(lambda n: f"wx{n:016d}")
    app_secret = "secret-of-the-app"
    is_sandbox = False


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda o: o.username)
    password = factory.django.Password("pass-word-123")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Staff.Role.OWNER
