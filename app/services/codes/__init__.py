"""QR codes, mini-program codes and poster bundles for units."""
