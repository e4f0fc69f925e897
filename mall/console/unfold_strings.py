"""django-unfold's own interface strings, for the zh_Hans catalogue.

django-unfold 0.91.0 ships no Chinese catalogue. Strings of its templates and code that Django's
admin catalogue does not already translate ("Reset filters", "Run", the theme switch's "Dark" /
"Light" / "System", the empty list, pagination, the WYSIWYG toolbar...) stayed English in a
zh-hans console. Marking them here (``gettext_noop``: nothing is translated at import) puts them in
our catalogue through ``makemessages``; unfold's ``{% trans %}`` then finds our ``msgstr`` at run
time. Nothing imports this module. Strings of unfold's contrib apps we do not install
(import-export, guardian, simple-history, constance, filters, inlines) and of the command palette
(``command_search`` is off) are left out. ``tests/console/test_i18n.py`` checks the list.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

UNFOLD_STRINGS = [
    gettext_noop("Add new item"),
    gettext_noop("All applications"),
    gettext_noop("Apply Filters"),
    gettext_noop("Bold"),
    gettext_noop("Click to cancel"),
    gettext_noop("Click to download"),
    gettext_noop("Dark"),
    gettext_noop("Light"),
    gettext_noop("System"),
    gettext_noop("Enter an URL"),
    gettext_noop("Expand row"),
    gettext_noop("False"),
    gettext_noop("True"),
    gettext_noop("General"),
    gettext_noop("Go back"),
    gettext_noop("Heading"),
    gettext_noop("Indent decrease"),
    gettext_noop("Indent increase"),
    gettext_noop("Italic"),
    gettext_noop("Link"),
    gettext_noop("More actions"),
    gettext_noop("Next"),
    gettext_noop("Previous"),
    gettext_noop("No data"),
    gettext_noop("No results found"),
    gettext_noop("Ordered list"),
    gettext_noop("Paragraph"),
    gettext_noop("Quote"),
    gettext_noop("Record picture"),
    gettext_noop("Redo"),
    gettext_noop("Undo"),
    gettext_noop("Reset filters"),
    gettext_noop("Run"),
    gettext_noop("Select action"),
    gettext_noop("Select action to run"),
    gettext_noop("Select all rows"),
    gettext_noop("Select record"),
    gettext_noop("Select value"),
    gettext_noop("Strike"),
    gettext_noop("Submit"),
    gettext_noop("This item will be deleted."),
    gettext_noop("This page yielded into no results. Create a new item or reset your filters."),
    gettext_noop("Toggle password visibility"),
    gettext_noop("Type to search"),
    gettext_noop("Underlined"),
    gettext_noop("Unlink"),
    gettext_noop("Unordered list"),
    gettext_noop("You have been successfully logged out from the administration"),
]
