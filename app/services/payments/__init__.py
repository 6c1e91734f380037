"""Payments: donation orders, WeChat Pay notifications, totals, reconciliation, ledger check."""
