"""An image at the upload limit (25 MP) is processed within 100 MiB: decoded with a pixel budget
(JPEG at a reduced DCT scale via draft()), not at full size."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from PIL import Image

from catalog.images import image_clean, image_decode_bytes, image_pixel_budget, max_image_pixels

MIB = 1024 * 1024
SIDE = 5000  # 5000 x 5000 = 25 MP, exactly CATALOG_MAX_IMAGE_PIXELS

# Runs in a fresh interpreter: ru_maxrss is the process's high-water mark, so its growth over
# image_clean is what the upload costs, Pillow's C buffers included (tracemalloc misses them).
MEASURE = """
import json, resource, sys
import django
django.setup()
from catalog.images import image_clean
raw = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
clean = image_clean(raw)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"kib": after - before, "size": [clean.width, clean.height],
                  "thumbs": sorted(clean.thumbs)}))
"""


def _limit_jpeg() -> bytes:
    """A 25 MP photo-like JPEG under the 5 MiB file limit."""
    x = Image.linear_gradient("L").resize((SIDE, SIDE))
    y = x.transpose(Image.Transpose.ROTATE_90)
    r = Image.radial_gradient("L").resize((SIDE, SIDE))
    buf = io.BytesIO()
    Image.merge("RGB", (x, y, r)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


@pytest.fixture(scope="module")
def limit_jpeg() -> bytes:
    data = _limit_jpeg()
    assert SIDE * SIDE == 25_000_000 and len(data) <= 5 * MIB
    return data


def _at_decode_limit(fmt: str, per_pixel: int) -> bytes:
    """The largest square RGBA PNG/WebP accepted (decoded at full size, so bounded in bytes)."""
    side = int((image_decode_bytes() // per_pixel) ** 0.5)
    x = Image.linear_gradient("L").resize((side, side))
    image = Image.merge("RGB", (x, x.transpose(Image.Transpose.ROTATE_90), x))
    image.putalpha(x)
    buf = io.BytesIO()
    image.save(buf, fmt)
    assert len(buf.getvalue()) <= 5 * MIB
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["25 MP JPEG", "RGBA PNG at its limit", "WebP at its limit"])
def test_an_image_at_the_limit_costs_under_100_mib(
    kind: str, limit_jpeg: bytes, tmp_path: Path
) -> None:
    assert max_image_pixels() >= SIDE * SIDE
    path = tmp_path / "limit"
    makers = {
        "25 MP JPEG": lambda: limit_jpeg,
        "RGBA PNG at its limit": lambda: _at_decode_limit("PNG", 8),
        "WebP at its limit": lambda: _at_decode_limit("WEBP", 24),
    }
    path.write_bytes(makers[kind]())
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": django_settings.SETTINGS_MODULE}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["kib"] * 1024 < 100 * MIB, f"peak grew by {result['kib'] / 1024:.0f} MiB"
    width, height = result["size"]
    assert width == height > 1000 and width * height <= image_pixel_budget()
    assert result["thumbs"] == ["medium", "small"]


def test_the_limit_image_is_stored_within_the_budget_with_thumbnails(limit_jpeg: bytes) -> None:
    clean = image_clean(limit_jpeg)
    assert clean.width * clean.height <= image_pixel_budget()
    assert clean.width == clean.height >= 2000  # scaled, not thumbnailed
    stored = Image.open(io.BytesIO(clean.data))
    assert stored.format == "JPEG" and stored.size == (clean.width, clean.height)
    assert Image.open(io.BytesIO(clean.thumbs["medium"])).size == (600, 600)
    assert Image.open(io.BytesIO(clean.thumbs["small"])).size == (200, 200)


def test_a_png_too_large_to_decode_within_the_budget_is_refused(settings: Any) -> None:
    settings.CATALOG_IMAGE_DECODE_BYTES = 100 * 100 * 8  # RGBA: 8 bytes a pixel
    buf = io.BytesIO()
    Image.new("RGBA", (101, 100)).save(buf, "PNG")
    from mall.api.errors import ApplicationError

    with pytest.raises(ApplicationError) as info:
        image_clean(buf.getvalue())
    assert info.value.code == "image_too_large"
    small = io.BytesIO()
    Image.new("RGBA", (100, 100), (1, 2, 3, 4)).save(small, "PNG")
    assert image_clean(small.getvalue()).width == 100
