"""Fill empty msgstr entries of a .po file from a Python dict of translations.

    python scripts/po_fill.py locale/zh_Hans/LC_MESSAGES/django.po translations.py

``translations.py`` defines ``ZH = {"English source": "中文", "Plural source": ["中文"]}``
(a plural entry maps its singular msgid to a list of msgstr[n]). Existing translations are
kept; entries not in the dict stay empty (the catalogue test then names them). Fuzzy flags of
filled entries are removed.
"""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path


def _unquote(lines: list[str], key: str) -> tuple[str, int]:
    """The string of a ``key "..."`` field starting at lines[0] and its number of lines."""
    text = re.match(rf'^{re.escape(key)} "(.*)"$', lines[0]).group(1)  # type: ignore[union-attr]
    n = 1
    while n < len(lines) and lines[n].startswith('"'):
        text += lines[n][1:-1]
        n += 1
    return bytes(text, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8"), n


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def fill(po: Path, table: dict[str, str | list[str]]) -> list[str]:
    blocks = po.read_text(encoding="utf-8").split("\n\n")
    missing = []
    out = []
    for block in blocks:
        lines = block.split("\n")
        idx = next((i for i, line in enumerate(lines) if line.startswith("msgid ")), None)
        if idx is None:
            out.append(block)
            continue
        msgid, n = _unquote(lines[idx:], "msgid")
        if msgid == "":
            out.append(block)
            continue
        rest = lines[idx + n :]
        plural = rest and rest[0].startswith("msgid_plural ")
        strs = [line for line in rest if line.startswith("msgstr")]
        empty = all(s.endswith(' ""') for s in strs) and not any(
            line.startswith('"') for line in rest if not line.startswith("msgid_plural")
        )
        if not empty and "fuzzy" not in block:
            out.append(block)
            continue
        value = table.get(msgid)
        if value is None:
            missing.append(msgid)
            out.append(block)
            continue
        head = [line for line in lines[:idx] if not line.startswith("#, fuzzy")]
        head = [line.replace("fuzzy, ", "") for line in head]
        body = lines[idx : idx + n]
        if plural:
            _, pn = _unquote(rest, "msgid_plural")
            body += rest[:pn]
            values = value if isinstance(value, list) else [value]
            body += [f"msgstr[{i}] {_quote(v)}" for i, v in enumerate(values)]
        else:
            body.append(f"msgstr {_quote(value if isinstance(value, str) else value[0])}")
        out.append("\n".join(head + body))
    po.write_text("\n\n".join(out), encoding="utf-8")
    return missing


if __name__ == "__main__":
    table = runpy.run_path(sys.argv[2])["ZH"]
    left = fill(Path(sys.argv[1]), table)
    for msgid in left:
        print("untranslated:", msgid)
