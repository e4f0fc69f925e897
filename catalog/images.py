"""Product images: verified by Pillow, re-encoded without metadata, bounded, thumbnailed.

Everything is written through Django's default storage (local files by default, in-memory in
tests, object storage when configured).
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass
from math import ceil
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from catalog import lock_objects
from catalog.errors import CatalogErrorCode
from catalog.models import Product, ProductImage
from catalog.selectors import catalog_cache_changed
from mall.errors import ApplicationError, InvalidInputError
from mall.tenancy.models import Tenant

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "png"}
THUMB_SIZES = {"small": 200, "medium": 600}


def max_image_bytes() -> int:
    return int(getattr(settings, "CATALOG_MAX_IMAGE_BYTES", 5 * 1024 * 1024))


def max_image_pixels() -> int:
    """The most pixels an upload may declare (from its header); larger is refused."""
    return int(getattr(settings, "CATALOG_MAX_IMAGE_PIXELS", 25_000_000))


def image_pixel_budget() -> int:
    """The most pixels one upload is decoded into and stored with; larger is scaled down."""
    return int(getattr(settings, "CATALOG_IMAGE_PIXEL_BUDGET", 8_000_000))


def image_decode_bytes() -> int:
    """PNG/WebP/GIF cannot be decoded at a reduced scale: their full decode is bounded."""
    return int(getattr(settings, "CATALOG_IMAGE_DECODE_BYTES", 64 * 1024 * 1024))


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    ext: str
    width: int
    height: int
    thumbs: dict[str, bytes]


def _too_large(message: str | Promise, **details: object) -> ApplicationError:
    return InvalidInputError(CatalogErrorCode.IMAGE_TOO_LARGE, message, details=dict(details))


def _invalid() -> ApplicationError:
    return InvalidInputError(
        CatalogErrorCode.INVALID_IMAGE,
        _("The file is not a supported image (JPEG, PNG, WebP or GIF)."),
    )


def _encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        (img if img.mode == "RGB" else img.convert("RGB")).save(
            buf, "JPEG", quality=88, optimize=True
        )
    elif fmt == "WEBP":
        img.save(buf, "WEBP", quality=85)
    else:
        img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _decode_bytes_per_pixel(fmt: str, mode: str) -> int:
    """What decoding and scaling cost per pixel: Pillow keeps RGB in 4 bytes and scales images
    with alpha through a premultiplied copy (palette images: converted first); libwebp's
    decoder and encoder need about 27 bytes a pixel together (measured with Pillow 13)."""
    if fmt == "WEBP":
        return 24
    if mode in ("1", "L"):
        return 1
    if mode in ("RGB", "YCbCr", "CMYK", "I", "F"):
        return 4
    return 9 if mode == "P" else 8


def _scale_for(width: int, height: int, budget: int) -> int:
    """The smallest integer factor that brings ``width x height`` within ``budget`` pixels."""
    factor = 1
    while ceil(width / factor) * ceil(height / factor) > budget:
        factor += 1
    return factor


def _decode(raw: bytes, limit: int) -> tuple[Image.Image, str]:
    """Verify and decode ``raw`` within the pixel budget (see docs/catalog.md, Images)."""
    budget = image_pixel_budget()
    probe = Image.open(io.BytesIO(raw))
    if probe.format not in ALLOWED_FORMATS:
        raise _invalid()
    width, height = probe.size
    if width * height > limit:  # checked from the header, before decoding
        raise _too_large(
            _("The image has too many pixels."), max_pixels=limit, pixels=width * height
        )
    probe.verify()
    img: Image.Image = Image.open(io.BytesIO(raw))
    fmt = str(img.format)
    factor = _scale_for(width, height, budget)
    if fmt == "JPEG" and factor > 1:
        # The decoder scales by 1/2, 1/4 or 1/8 itself: the full image is never in memory.
        draft = 1
        while draft * 2 <= min(factor, 8):
            draft *= 2
        img.draft(
            img.mode if img.mode in ("L", "RGB") else None,
            (
                ceil(width / draft),
                ceil(height / draft),
            ),
        )
    elif fmt != "JPEG":
        per_pixel = _decode_bytes_per_pixel(fmt, img.mode)
        if width * height * per_pixel > image_decode_bytes():  # decoded at full size
            raise _too_large(
                _("The image has too many pixels for its format; use a JPEG or a smaller image."),
                max_pixels=image_decode_bytes() // per_pixel,
                pixels=width * height,
            )
    img.load()
    if img.mode == "P":
        img = img.convert("RGBA")
    factor = _scale_for(img.width, img.height, budget)
    if factor > 1:
        img = img.reduce(factor)  # what draft() left (or all of it for PNG/WebP/GIF)
    return img, fmt


def image_clean(raw: bytes) -> CleanImage:
    """Verify, bound, strip metadata (honouring EXIF orientation) and thumbnail ``raw``.

    At most ``image_pixel_budget()`` pixels are kept: larger images are scaled down while
    decoding (JPEG) or right after it, so one upload stays under 100 MiB.
    """
    if len(raw) > max_image_bytes():
        raise _too_large(
            _("The image file is too large."), max_bytes=max_image_bytes(), size=len(raw)
        )
    limit = max_image_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img, fmt = _decode(raw, limit)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large(_("The image has too many pixels."), max_pixels=limit) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _invalid() from exc
    ImageOps.exif_transpose(img, in_place=True)  # apply orientation, then forget all metadata
    out_fmt = "PNG" if fmt == "GIF" else fmt
    if out_fmt != "JPEG" and img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = img.convert("RGBA")
    clean = Image.new(img.mode, img.size)
    clean.paste(img)
    del img
    thumbs: dict[str, bytes] = {}
    for name, size in THUMB_SIZES.items():
        scale = min(1.0, size / max(clean.width, clean.height))
        box = (max(1, round(clean.width * scale)), max(1, round(clean.height * scale)))
        # resize() reads the source; no full-size copy (reducing_gap: fast and still sharp).
        thumb = clean.resize(box, Image.Resampling.LANCZOS, reducing_gap=3.0)
        thumbs[name] = _encode(thumb, out_fmt)
    return CleanImage(
        data=_encode(clean, out_fmt),
        ext=ALLOWED_FORMATS[fmt],
        width=clean.width,
        height=clean.height,
        thumbs=thumbs,
    )


def _read_bounded(upload: IO[bytes]) -> bytes:
    data = upload.read(max_image_bytes() + 1)
    if len(data) > max_image_bytes():
        raise _too_large(_("The image file is too large."), max_bytes=max_image_bytes())
    return data


def product_image_add(
    *, tenant: Tenant, product: Product, upload: IO[bytes], position: int | None = None
) -> ProductImage:
    """Store a cleaned image and its thumbnails; the first image becomes the main image."""
    clean = image_clean(_read_bounded(upload))
    stem = f"catalog/{tenant.pk}/{product.pk}/{uuid.uuid4().hex}"
    names = {"file": default_storage.save(f"{stem}.{clean.ext}", ContentFile(clean.data))}
    for name, data in clean.thumbs.items():
        names[name] = default_storage.save(
            f"{stem}_{THUMB_SIZES[name]}.{clean.ext}", ContentFile(data)
        )
    with transaction.atomic():
        locked = lock_objects.product_qs_for_update(tenant=tenant, pk=product.pk).get()
        if position is None:
            top = (
                ProductImage.objects.for_tenant(tenant)
                .filter(product=locked)
                .aggregate(top=Max("position"))["top"]
            )
            position = 0 if top is None else top + 1
        image = ProductImage.objects.create(
            tenant=tenant,
            product=locked,
            file=names["file"],
            thumb_small=names["small"],
            thumb_medium=names["medium"],
            width=clean.width,
            height=clean.height,
            position=position,
        )
        if not locked.main_image or position == 0:
            Product.objects.for_tenant(tenant).filter(pk=locked.pk).update(
                main_image=names["medium"]
            )
        catalog_cache_changed(tenant_id=tenant.pk, product_ids=[locked.pk], listing=True)
    return image


def product_cover_refresh(*, tenant: Tenant, product: Product) -> str:
    """After images were reordered or deleted: the first image (position, then id) is the
    cover, i.e. ``Product.main_image``. Returns the cover's storage name ("" without images)."""
    first = (
        ProductImage.objects.for_tenant(tenant)
        .filter(product_id=product.pk)
        .order_by("position", "id")
        .values_list("thumb_medium", flat=True)
        .first()
    )
    cover = first or ""
    changed = Product.objects.for_tenant(tenant).filter(pk=product.pk).exclude(main_image=cover)
    if changed.update(main_image=cover):
        catalog_cache_changed(tenant_id=tenant.pk, product_ids=[product.pk], listing=True)
    product.main_image = cover
    return cover
