"""Infrastructure the services use but that is no use case: password hashing, signed tokens,
the shared WeChat access token, and files cached on disk."""
