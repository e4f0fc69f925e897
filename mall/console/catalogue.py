"""Compiling the translation catalogues (``locale/<lang>/LC_MESSAGES/django.po`` -> ``.mo``).

The ``.mo`` files are build output (not committed): ``compilemessages`` builds them in the
demo, CI and the Dockerfile; the test session calls ``compile_catalogues()`` (tests/conftest.py).
Needs GNU gettext's ``msgfmt`` (Debian: ``apt-get install gettext``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from django.conf import settings


class GettextMissing(RuntimeError):
    pass


def catalogues() -> list[Path]:
    return sorted(
        po for base in settings.LOCALE_PATHS for po in Path(base).glob("*/LC_MESSAGES/django.po")
    )


def compile_catalogues() -> list[Path]:
    """Compile every stale catalogue of ``LOCALE_PATHS``; answers the ``.mo`` files."""
    msgfmt = shutil.which("msgfmt")
    built = []
    for po in catalogues():
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            built.append(mo)
            continue
        if msgfmt is None:
            raise GettextMissing(
                "msgfmt not found: install GNU gettext (Debian: apt-get install -y gettext) "
                "to compile the translation catalogues."
            )
        subprocess.run([msgfmt, "--check-format", "-o", str(mo), str(po)], check=True)  # noqa: S603
        built.append(mo)
    return built
