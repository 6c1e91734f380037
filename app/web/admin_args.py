"""Reading the admin filters from a query string (or a form) into service values."""

from __future__ import annotations

from app.services.reports.donation_list import DonationFilter
from app.services.reports.figures import Period, parse_period
from app.web.parsing import query_arg


def donation_filter() -> DonationFilter:
    return DonationFilter(campaign=query_arg("campaign", max_length=15) or None,
                          unit=query_arg("unit", max_length=16) or None,
                          status=query_arg("status", max_length=10) or None,
                          date_from=query_arg("from", max_length=10) or None,
                          date_to=query_arg("to", max_length=10) or None,
                          openid=query_arg("openid", max_length=64) or None)


def period() -> Period:
    return parse_period(query_arg("from", max_length=10) or None,
                        query_arg("to", max_length=10) or None)
