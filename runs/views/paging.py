"""Helpers the page views share: pagination that refuses bad page numbers, and 400 pages."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from runs.params import BadParam, shown, whole_number


class BadInput(BadParam):
    """Request input the page cannot use; the message is a sentence for the user. A view that
    does not catch it gets dashboard's 400 page (see runs.params)."""


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "runs/bad_request.html", {"message": message}, status=400)


def paginate(request: HttpRequest, items: QuerySet, *, per_page: int, param: str = "page") -> Page:
    """The requested page of `items`; raises BadInput for a page that is not a number or does
    not exist. Two queries: the count and the page."""
    raw = request.GET.get(param, "") or "1"
    number = whole_number(raw, maximum=None)
    if number is None or number < 1:
        raise BadInput(f"{shown(raw)} is not a page number; pages are numbered from 1.", name=param)
    paginator = Paginator(items, per_page)
    if number > paginator.num_pages:
        raise BadInput(
            f"Page {number} does not exist; this list has {paginator.num_pages} "
            f"page{'s' if paginator.num_pages != 1 else ''}."
        )
    return paginator.page(number)


def query_without(request: HttpRequest, *params: str) -> str:
    """The current query string without `params`, for building page and filter links."""
    query = request.GET.copy()
    for param in params:
        query.pop(param, None)
    return query.urlencode()
