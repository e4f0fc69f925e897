"""Share posters: a PNG with the product (image, title, price), the distributor (avatar
initial and name) and a QR code carrying the share scene ``d=<code>&p=<product id>``.

The QR code is made with segno. A WeChat mini program code (``wxa.get_wxa_code_unlimited``)
is the production path for WeChat channels and is NOT implemented yet: every channel gets the
QR code. Text uses Noto Sans CJK when installed (fonts-noto-cjk), else Pillow's default font
(which cannot draw Chinese characters). Posters are cached per distributor and product, keyed
by the product's ``updated_at`` so a changed product renders a new poster.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import segno
from django.core.cache import cache
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageFont

from distribution.models import Distributor

WIDTH, HEIGHT = 750, 1200
QR_SIZE = 300
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
)
CACHE_SECONDS = 7 * 24 * 3600


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def share_scene(*, distributor: Distributor, product_id: int) -> str:
    """At most 32 characters (WeChat's scene limit)."""
    return f"d={distributor.share_code}&p={product_id}"[:32]


def share_text(*, distributor_name: str, title: str, price: Any) -> str:
    """One-click share copy."""
    return f"{distributor_name} recommends {title}, only ¥{price}! Open the shop to buy it."


def _product_image(name: str) -> Image.Image | None:
    if not name:
        return None
    try:
        with default_storage.open(name) as handle:
            image = Image.open(io.BytesIO(handle.read()))
            image.load()
            return image.convert("RGB")
    except (OSError, ValueError):
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


def poster_render(*, distributor: Distributor, member: Any, product: Any) -> bytes:
    scene = share_scene(distributor=distributor, product_id=product.pk)
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(canvas)
    picture = _product_image(product.main_image)
    box = (0, 0, WIDTH, WIDTH)
    if picture is not None:
        picture.thumbnail((WIDTH, WIDTH))
        canvas.paste(picture, ((WIDTH - picture.width) // 2, (WIDTH - picture.height) // 2))
    else:
        draw.rectangle(box, fill="#f2f2f2")
    title_font, price_font, small = _font(34), _font(44), _font(26)
    y = WIDTH + 24
    for line in _wrap(draw, product.title, title_font, WIDTH - 48):
        draw.text((24, y), line, fill="#222222", font=title_font)
        y += 46
    price = product.display_price if product.display_price is not None else ""
    draw.text((24, y + 8), f"¥{price}", fill="#e02e24", font=price_font)
    # Distributor: an avatar disc with its initial, and its name.
    name = (member.nickname or "")[:16] or distributor.share_code
    draw.ellipse((24, HEIGHT - 150, 104, HEIGHT - 70), fill="#ffb400")
    draw.text((52, HEIGHT - 132), name[:1].upper(), fill="white", font=title_font)
    draw.text((120, HEIGHT - 135), name, fill="#333333", font=small)
    draw.text((120, HEIGHT - 98), "Scan to buy", fill="#888888", font=small)
    qr = segno.make(scene, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=10, border=2)
    qr_image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    qr_image = qr_image.resize((QR_SIZE, QR_SIZE), Image.Resampling.NEAREST)
    canvas.paste(qr_image, (WIDTH - QR_SIZE - 24, HEIGHT - QR_SIZE - 24))
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def poster_for(*, distributor: Distributor, member: Any, product: Any) -> bytes:
    """Cached per distributor and product version."""
    version = product.updated_at.timestamp() if product.updated_at else 0
    key = f"distribution:poster:{distributor.tenant_id}:{distributor.pk}:{product.pk}:{version}"
    found = cache.get(key)
    if found is not None:
        return found
    png = poster_render(distributor=distributor, member=member, product=product)
    cache.set(key, png, CACHE_SECONDS)
    return png
