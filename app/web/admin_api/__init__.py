"""The admin API: JSON under /admin/api and downloads under /admin/export, for a bearer
token or the console's session. One blueprint per module: account (token, me, password),
data (figures, donations, audit), manage (campaigns, accounts, anomalies), units, bills,
export; args reads their query strings."""
