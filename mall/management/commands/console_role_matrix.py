"""Print the console's role x menu entry matrix (docs/console.md holds a copy)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mall.console.menu import role_matrix_markdown


class Command(BaseCommand):
    help = "Print the console's role x menu entry matrix (view / edit) as Markdown."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(role_matrix_markdown(), ending="")
