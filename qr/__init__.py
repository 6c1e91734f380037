"""QR codes and posters as bytes: no Flask, no models."""
