"""Compiling the translation catalogues (``locale/<lang>/LC_MESSAGES/django.po`` -> ``.mo``).

The ``.mo`` files are build output (not committed): ``compilemessages`` builds them in the
demo, CI and the Dockerfile; the test session calls ``compile_catalogues()`` (tests/conftest.py).
GNU gettext's ``msgfmt`` compiles them where it is installed (it also checks the formats);
elsewhere polib (pure Python, in requirements.txt) does, so the README's two commands need no
system package. ``manage.py compile_catalogues`` runs this from the shell.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from django.conf import settings


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
            import polib

            polib.pofile(str(po)).save_as_mofile(str(mo))
        else:
            subprocess.run([msgfmt, "--check-format", "-o", str(mo), str(po)], check=True)  # noqa: S603
        built.append(mo)
    return built
