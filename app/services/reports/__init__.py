"""What admins read: figures, dashboard, charts, the donation list, exports and unit reports."""
