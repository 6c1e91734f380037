"""Admin accounts, their audit trail, campaign administration and anomaly review."""
