"""Reading the admin filters from a query string into service values, with their defaults."""

from __future__ import annotations

from app.services.reports.donation_list import DonationFilter, parse_limit
from app.services.reports.figures import Period, parse_period
from app.web.parsing import query_arg

DEFAULT_CAMPAIGN = "one-yuan"
DEFAULT_SORT = "amount"


def campaign_code() -> str:
    """The campaign a dashboard or report is about: the one-yuan campaign unless asked."""
    return query_arg("campaign", max_length=15) or DEFAULT_CAMPAIGN


def unit_code() -> str | None:
    """The unit whose subtree is wanted; None for all the caller may see."""
    return query_arg("unit", max_length=16) or None


def sort_by() -> str:
    return query_arg("sort", max_length=10) or DEFAULT_SORT


def cursor() -> str | None:
    return query_arg("cursor", max_length=20)


def page_limit() -> int:
    return parse_limit(query_arg("limit", max_length=5))


def donation_filter() -> DonationFilter:
    return DonationFilter(campaign=query_arg("campaign", max_length=15) or None,
                          unit=unit_code(),
                          status=query_arg("status", max_length=10) or None,
                          date_from=query_arg("from", max_length=10) or None,
                          date_to=query_arg("to", max_length=10) or None,
                          openid=query_arg("openid", max_length=64) or None)


def period() -> Period:
    return parse_period(query_arg("from", max_length=10) or None,
                        query_arg("to", max_length=10) or None)
