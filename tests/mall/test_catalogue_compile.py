"""The translation catalogues compile without GNU gettext too (polib), so the README's two
commands need no system package."""

from __future__ import annotations

import gettext
import shutil
from pathlib import Path
from typing import Any

from mall.console import catalogue


def test_catalogues_compile_with_polib_where_msgfmt_is_missing(
    tmp_path: Path, settings: Any, monkeypatch: Any
) -> None:
    source = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    target = tmp_path / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(source, target / "django.po")
    settings.LOCALE_PATHS = [tmp_path]
    monkeypatch.setattr(catalogue.shutil, "which", lambda name: None)

    built = catalogue.compile_catalogues()

    assert built == [target / "django.mo"]
    with (target / "django.mo").open("rb") as mo:
        translations = gettext.GNUTranslations(mo)
    assert translations.gettext("Products") == "商品"
    assert translations.gettext("Orders") == "订单"
