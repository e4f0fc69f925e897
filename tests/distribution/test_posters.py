"""Posters: mini program code through a local WeChat fake, QR code elsewhere, avatar, cache."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest
import segno
import zxingcpp
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from distribution import posters
from distribution.platforms import WxaCodeUnavailable, wxa_code_unlimited
from mall.tenancy.models import Channel
from tests.catalog.factories import ProductFactory
from tests.conftest import shopper_client
from tests.mall.factories import ChannelFactory
from tests.members.factories import access_token_for

pytestmark = pytest.mark.django_db

AVATAR_BOX = (24, 1200 - 24 - 150 - 48)  # top-left of the avatar disc (see posters.py)
AVATAR_CENTRE = (AVATAR_BOX[0] + 48, AVATAR_BOX[1] + 48)
AVATAR_EDGE = (AVATAR_BOX[0] + 10, AVATAR_BOX[1] + 48)  # inside the disc, left of the initials


def png(text: str) -> bytes:
    """A PNG the fake WeChat answers: a QR code of ``text`` standing in for a wxa code."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()


@pytest.fixture
def wechat(httpserver: HTTPServer, settings: Any) -> HTTPServer:
    settings.WECHAT_API_BASE_URL = httpserver.url_for("").rstrip("/")
    settings.DISTRIBUTION_POSTER_PAGE = "pages/product/detail"
    httpserver.expect_request("/cgi-bin/token", method="GET").respond_with_json(
        {"access_token": "token-1", "expires_in": 7200}
    )
    return httpserver


def fake_wxa(server: HTTPServer, bodies: list[dict[str, Any]]) -> None:
    def answer(request: Request) -> Response:
        assert request.args.get("access_token") == "token-1"
        body = json.loads(request.get_data())
        bodies.append(body)
        return Response(png(f"WXA {body['scene']}"), content_type="image/png")

    server.expect_request("/wxa/getwxacodeunlimit", method="POST").respond_with_handler(answer)


def decode(content: bytes) -> list[str]:
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG" and image.size == (750, 1200)
    return [r.text for r in zxingcpp.read_barcodes(image)]


def pixel(content: bytes, xy: tuple[int, int]) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(content)).convert("RGB").getpixel(xy)


def get_poster(channel: Channel, member: Any, product: Any) -> Any:
    api = shopper_client(channel.app_id, access_token_for(member))
    return api.get(f"/api/v1/distribution/poster?product_id={product.pk}")


def test_a_real_wechat_channel_gets_the_mini_program_code(
    tenant: Any, chain: dict, wechat: HTTPServer
) -> None:
    channel = ChannelFactory(tenant=tenant, app_id="wx-real-a")
    product = ProductFactory(tenant=tenant, title="Tea", display_price=Decimal("88.00"))
    bodies: list[dict[str, Any]] = []
    fake_wxa(wechat, bodies)
    scene = f"d={chain['d'].share_code}&p={product.pk}"

    answer = get_poster(channel, chain["d"].member, product)

    assert answer.status_code == 200, answer.content
    assert decode(answer.content) == [f"WXA {scene}"]  # WeChat's image is on the poster
    assert bodies == [
        {
            "scene": scene,
            "page": "pages/product/detail",
            "width": 280,
            "auto_color": False,
            "line_color": {"r": "0", "g": "0", "b": "0"},
            "is_hyaline": False,
        }
    ]
    assert answer["X-Share-Scene"] == scene
    # Cached: the second poster costs no call to WeChat.
    assert get_poster(channel, chain["d"].member, product).content == answer.content
    assert len(bodies) == 1


def test_wechat_errors_fall_back_to_a_qr_code_cached_briefly(
    tenant: Any, chain: dict, wechat: HTTPServer, monkeypatch: Any
) -> None:
    channel = ChannelFactory(tenant=tenant, app_id="wx-real-b")
    product = ProductFactory(tenant=tenant)
    wechat.expect_request("/wxa/getwxacodeunlimit", method="POST").respond_with_json(
        {"errcode": 41030, "errmsg": "invalid page"}
    )
    timeouts: list[int] = []
    real_set = posters.cache.set

    def recording_set(key: str, value: Any, timeout: int) -> None:
        if key.startswith("distribution:poster:"):
            timeouts.append(timeout)
        real_set(key, value, timeout)

    monkeypatch.setattr(posters.cache, "set", recording_set)

    answer = get_poster(channel, chain["d"].member, product)

    assert answer.status_code == 200
    assert decode(answer.content) == [f"d={chain['d'].share_code}&p={product.pk}"]
    assert timeouts == [posters.FALLBACK_CACHE_SECONDS]


def test_wxa_code_helper_refuses_long_scenes_and_non_images(
    tenant: Any, wechat: HTTPServer
) -> None:
    channel = ChannelFactory(tenant=tenant, app_id="wx-real-c")
    with pytest.raises(ValueError):
        wxa_code_unlimited(channel=channel, scene="d=" + "X" * 31, page="")
    wechat.expect_request("/wxa/getwxacodeunlimit", method="POST").respond_with_data(
        b"<html>not an image</html>", content_type="text/html"
    )
    with pytest.raises(WxaCodeUnavailable):
        wxa_code_unlimited(channel=channel, scene="d=ABC", page="")


def test_sandbox_and_alipay_channels_get_a_qr_code_without_calling_wechat(
    tenant: Any, chain: dict, wechat: HTTPServer
) -> None:
    product = ProductFactory(tenant=tenant)
    scene = f"d={chain['d'].share_code}&p={product.pk}"
    for channel in (
        ChannelFactory(tenant=tenant, app_id="wx-sandbox", is_sandbox=True),
        ChannelFactory(tenant=tenant, app_id="2021-alipay", platform=Channel.Platform.ALIPAY),
    ):
        answer = get_poster(channel, chain["d"].member, product)
        assert decode(answer.content) == [scene]
    assert wechat.log == []  # not even an access token


def test_a_changed_product_renders_a_new_poster(tenant: Any, chain: dict, monkeypatch: Any) -> None:
    channel = ChannelFactory(tenant=tenant, app_id="wx-sandbox", is_sandbox=True)
    product = ProductFactory(tenant=tenant, title="Old title", display_price=Decimal("10.00"))
    renders: list[str] = []
    real_render = posters.poster_render

    def counting(**kwargs: Any) -> Any:
        renders.append(kwargs["product"].title)
        return real_render(**kwargs)

    monkeypatch.setattr(posters, "poster_render", counting)
    member = chain["d"].member
    first = get_poster(channel, member, product).content
    assert get_poster(channel, member, product).content == first
    assert renders == ["Old title"]

    product.title = "New title"
    product.save()

    assert get_poster(channel, member, product).content != first
    assert renders == ["Old title", "New title"]


def test_avatar_from_our_storage_else_initials_never_a_download(tenant: Any, chain: dict) -> None:
    channel = ChannelFactory(tenant=tenant, app_id="wx-sandbox", is_sandbox=True)
    product = ProductFactory(tenant=tenant)
    member = chain["d"].member
    member.nickname = "Xiao Ming"
    member.avatar = "https://thirdwx.qlogo.cn/mmopen/abc/132"  # never fetched (no network)
    member.save()

    external = get_poster(channel, member, product).content
    colour = posters.AVATAR_COLOURS[chain["d"].pk % 5]
    expected = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    assert pixel(external, AVATAR_EDGE) == expected  # the initials disc

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(buffer, format="PNG")
    name = default_storage.save("avatars/xm.png", ContentFile(buffer.getvalue()))
    member.avatar = f"/media/{name}"
    member.save()
    product.save()  # new product version: a new poster

    local = get_poster(channel, member, product).content
    assert pixel(local, AVATAR_CENTRE) == (10, 200, 30)


def test_initials() -> None:
    assert posters.initials("Xiao Ming") == "XM"
    assert posters.initials("alice") == "A"
    assert posters.initials("Jean Paul Sartre") == "JP"
    assert posters.initials("小明") == "小"
    assert posters.initials("  ") == "?"


def test_me_has_the_share_scene_and_copy(tenant: Any, channel: Any, chain: dict) -> None:
    d = chain["d"]
    d.member.nickname = "Wang Fang"
    d.member.save()
    body = shopper_client(channel.app_id, access_token_for(d.member)).get("/api/v1/distribution/me")
    assert body.status_code == 200
    assert body.json()["share_scene"] == f"d={d.share_code}"
    assert body.json()["share_text"].startswith("Wang Fang invites you to the shop")
