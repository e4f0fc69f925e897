"""Share posters: a 750×1200 PNG with the product (image, title, price), the distributor (avatar
and name) and a code carrying the share scene ``d=<code>&p=<product id>`` (≤ 32 characters).

- **Code**: on a real WeChat mini program channel (not a sandbox, app secret set), the WeChat
  mini program code from ``getwxacodeunlimit`` (:mod:`distribution.platforms`), opening
  ``settings.DISTRIBUTION_POSTER_PAGE`` (default ``pages/index/index``) with the scene; on any
  other channel (Alipay, H5, sandbox) a QR code of the scene made with segno. When WeChat fails,
  the poster falls back to the QR code and that poster is cached for 5 minutes only, so the next
  request tries WeChat again.
- **Avatar**: ``Member.avatar`` is an external URL set from the member's platform profile.
  It is never fetched by the server (no outbound request per poster, and no server-side request
  to an address a client chose); an avatar that is a path in our own storage (``default_storage``)
  is drawn in a circle, anything else gets a disc with the name's initials (first letters of the
  first two words, or the first character of a CJK name).
- **Text**: Noto Sans CJK when installed (``fonts-noto-cjk``), else Pillow's default font (which
  cannot draw Chinese characters).
- **Cache**: per tenant, distributor, product and product version (``Product.updated_at``), and
  per code kind (the channel's app id for a mini program code, ``qr`` otherwise), so a changed
  product renders a new poster.
"""

from __future__ import annotations

import io
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import segno
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageFont, ImageOps

from distribution.models import Distributor
from distribution.platforms import WxaCodeUnavailable, is_real_wechat_channel, wxa_code_unlimited
from mall.tenancy.models import Channel

logger = logging.getLogger(__name__)

WIDTH, HEIGHT = 750, 1200
CODE_SIZE = 300
AVATAR_SIZE = 96
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
)
CACHE_SECONDS = 7 * 24 * 3600
FALLBACK_CACHE_SECONDS = 300
DEFAULT_PAGE = "pages/index/index"
AVATAR_COLOURS = ("#ffb400", "#e0623a", "#3a8ee0", "#2fb380", "#8e5ae0")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def share_scene(*, distributor: Distributor, product_id: int | None = None) -> str:
    """``d=<code>`` or ``d=<code>&p=<id>``, at most 32 characters (WeChat's scene limit)."""
    scene = f"d={distributor.share_code}"
    if product_id is not None:
        scene += f"&p={product_id}"
    if len(scene) > 32:
        raise ValueError(f"share scene over 32 characters: {scene!r}")
    return scene


def poster_page() -> str:
    return getattr(settings, "DISTRIBUTION_POSTER_PAGE", DEFAULT_PAGE)


def display_name(*, distributor: Distributor, member: Any) -> str:
    return (member.nickname or "").strip()[:16] or distributor.share_code


def share_text(*, distributor_name: str, title: str = "", price: Any = None) -> str:
    """One-click share copy: for a product when given, else an invitation to the shop."""
    if title:
        price_text = f", only ¥{price}" if price not in (None, "") else ""
        return f"{distributor_name} recommends {title}{price_text}! Open the shop to buy it."
    return f"{distributor_name} invites you to the shop: open it and have a look!"


def initials(name: str) -> str:
    """``"Xiao Ming"`` -> ``"XM"``, ``"alice"`` -> ``"A"``, ``"小明"`` -> ``"小"``."""
    words = name.split()
    if not words:
        return "?"
    if not words[0][:1].isascii():
        return words[0][:1]
    return "".join(w[:1] for w in words[:2]).upper()


def _storage_image(name: str) -> Image.Image | None:
    """An image from our own storage (never a URL: nothing is fetched over the network)."""
    if not name or "://" in name or name.startswith("//"):
        return None
    try:
        with default_storage.open(name) as handle:
            image = Image.open(io.BytesIO(handle.read()))
            image.load()
            return image.convert("RGB")
    except (OSError, ValueError, SyntaxError):
        return None


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for char in text:
        if draw.textlength(current + char, font=font) > width:
            lines.append(current)
            current = char
        else:
            current += char
    if current:
        lines.append(current)
    return lines[:2]


def _avatar(member: Any, name: str, seed: int) -> Image.Image:
    """A round avatar: the member's stored picture, else its initials on a colour disc."""
    mask = Image.new("L", (AVATAR_SIZE, AVATAR_SIZE), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, AVATAR_SIZE - 1, AVATAR_SIZE - 1), fill=255)
    avatar = getattr(member, "avatar", "") or ""
    media_url = settings.MEDIA_URL or ""
    if media_url and avatar.startswith(media_url):  # one of ours: a storage name
        avatar = avatar[len(media_url) :]
    picture = _storage_image(avatar)
    if picture is not None:
        face = ImageOps.fit(picture, (AVATAR_SIZE, AVATAR_SIZE))
    else:
        face = Image.new("RGB", (AVATAR_SIZE, AVATAR_SIZE), AVATAR_COLOURS[seed % 5])
        draw = ImageDraw.Draw(face)
        font = _font(40)
        text = initials(name)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        draw.text(
            ((AVATAR_SIZE - (right - left)) / 2 - left, (AVATAR_SIZE - (bottom - top)) / 2 - top),
            text,
            fill="white",
            font=font,
        )
    disc = Image.new("RGB", (AVATAR_SIZE, AVATAR_SIZE), "white")
    disc.paste(face, (0, 0), mask)
    return disc


def qr_code(scene: str) -> Image.Image:
    qr = segno.make(scene, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=10, border=2)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def share_code_image(*, channel: Channel | None, scene: str) -> tuple[Image.Image, str]:
    """(code image, kind): ``wxa`` (mini program code), ``qr``, or ``qr_fallback``."""
    if is_real_wechat_channel(channel):
        assert channel is not None
        try:
            raw = wxa_code_unlimited(channel=channel, scene=scene, page=poster_page())
            return Image.open(io.BytesIO(raw)).convert("RGB"), "wxa"
        except (WxaCodeUnavailable, OSError) as exc:
            logger.warning("mini program code unavailable, QR code instead: %s", exc)
            return qr_code(scene), "qr_fallback"
    return qr_code(scene), "qr"


def poster_render(
    *,
    distributor: Distributor,
    member: Any,
    product: Any,
    channel: Channel | None = None,
) -> tuple[bytes, str]:
    """(PNG bytes, code kind) of the poster."""
    scene = share_scene(distributor=distributor, product_id=product.pk)
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(canvas)
    picture = _storage_image(product.main_image)
    if picture is not None:
        picture.thumbnail((WIDTH, WIDTH))
        canvas.paste(picture, ((WIDTH - picture.width) // 2, (WIDTH - picture.height) // 2))
    else:
        draw.rectangle((0, 0, WIDTH, WIDTH), fill="#f2f2f2")
    title_font, price_font, small = _font(34), _font(44), _font(26)
    y = WIDTH + 24
    for line in _wrap(draw, product.title, title_font, WIDTH - 48):
        draw.text((24, y), line, fill="#222222", font=title_font)
        y += 46
    price = product.display_price
    if price is not None:
        draw.text((24, y + 8), f"¥{Decimal(price):.2f}", fill="#e02e24", font=price_font)
    # The distributor: avatar and name, bottom left; the code bottom right.
    name = display_name(distributor=distributor, member=member)
    avatar_top = HEIGHT - 24 - CODE_SIZE // 2 - AVATAR_SIZE // 2
    canvas.paste(_avatar(member, name, distributor.pk), (24, avatar_top))
    draw.text((24 + AVATAR_SIZE + 16, avatar_top + 14), name, fill="#333333", font=small)
    draw.text((24 + AVATAR_SIZE + 16, avatar_top + 52), "Scan to buy", fill="#888888", font=small)
    code, kind = share_code_image(channel=channel, scene=scene)
    code = code.resize((CODE_SIZE, CODE_SIZE), Image.Resampling.NEAREST)
    canvas.paste(code, (WIDTH - CODE_SIZE - 24, HEIGHT - CODE_SIZE - 24))
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue(), kind


def poster_cache_key(*, distributor: Distributor, product: Any, channel: Channel | None) -> str:
    version = product.updated_at.timestamp() if product.updated_at else 0
    code = channel.app_id if is_real_wechat_channel(channel) and channel else "qr"
    return (
        f"distribution:poster:{distributor.tenant_id}:{distributor.pk}:{product.pk}:"
        f"{version}:{code}"
    )


def poster_for(
    *, distributor: Distributor, member: Any, product: Any, channel: Channel | None = None
) -> bytes:
    """Cached per distributor, product version and code kind (see the module docstring)."""
    key = poster_cache_key(distributor=distributor, product=product, channel=channel)
    found = cache.get(key)
    if found is not None:
        return found
    png, kind = poster_render(
        distributor=distributor, member=member, product=product, channel=channel
    )
    cache.set(key, png, FALLBACK_CACHE_SECONDS if kind == "qr_fallback" else CACHE_SECONDS)
    return png
