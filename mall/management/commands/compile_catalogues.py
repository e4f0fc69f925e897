"""``manage.py compile_catalogues``: build the ``.mo`` files of the translation catalogues
(GNU gettext's msgfmt where installed, else polib: no system package needed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mall.console.catalogue import compile_catalogues


class Command(BaseCommand):
    help = "Compile the translation catalogues of LOCALE_PATHS (.po -> .mo) that are stale."

    def handle(self, *args: Any, **options: Any) -> None:
        for mo in compile_catalogues():
            self.stdout.write(str(mo))
