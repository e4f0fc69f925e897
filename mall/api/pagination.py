"""The one paging rule of every list (DRF's paginator and the hand-built product list):

- ``page`` is a positive integer written in ASCII digits (at most 9); anything else is
  ``400 invalid_page`` with ``details.page`` the value sent.
- A page past the end is an empty page (``results`` [], the true ``count``, ``next`` null,
  ``previous`` the page before), not an error: a list that shrank between two requests does not
  break a client's scrolling. Page 1 of an empty list is an empty page too.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.paginator import EmptyPage, Page
from django.utils.translation import gettext
from rest_framework import pagination
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

from mall.api.errors import ErrorCode, InvalidInputError

_PAGE = re.compile(r"[0-9]{1,9}", re.ASCII)


def page_number_parse(raw: str | None) -> int:
    """The page asked for (1 when absent); ``400 invalid_page`` when malformed."""
    if raw is None or raw == "":
        return 1
    if _PAGE.fullmatch(raw) is None or int(raw) < 1:
        raise InvalidInputError(
            ErrorCode.INVALID_PAGE,
            gettext("Invalid page: a page is a positive integer."),
            details={"page": raw},
        )
    return int(raw)


class PageNumberPagination(pagination.PageNumberPagination):
    """``{"count", "next", "previous", "results"}`` with ``?page=`` and ``?page_size=`` (≤ 100)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        number = page_number_parse(request.query_params.get(self.page_query_param))
        paginator = self.django_paginator_class(queryset, page_size)
        try:
            self.page = paginator.page(number)
        except EmptyPage:  # past the end: an empty page
            self.page = Page([], number, paginator)
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)

    def get_previous_link(self) -> str | None:
        assert self.page is not None and self.request is not None  # set by paginate_queryset
        number = self.page.number
        if number <= 1:
            return None
        url = self.request.build_absolute_uri()
        if number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, number - 1)
