"""Password hashing: Argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane). Hashes made with
other parameters, and the scrypt hashes of earlier releases, still verify; needs_rehash says
when a successful sign-in should store the password again."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
_SCRYPT = "scrypt$"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def hash_passwords(passwords: list[str]) -> list[str]:
    """hash_password of each, in order, on every core: Argon2 releases the GIL while it works,
    so an import of a few hundred accounts takes seconds per core instead of a minute."""
    if len(passwords) < 2:
        return [hash_password(password) for password in passwords]
    with ThreadPoolExecutor(min(len(passwords), os.cpu_count() or 1)) as pool:
        return list(pool.map(hash_password, passwords))


def check_password(password: str, stored: str) -> bool:
    if stored.startswith(_SCRYPT):
        return _check_scrypt(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether `stored` was made otherwise than hash_password makes a hash today."""
    if stored.startswith(_SCRYPT):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True


def _check_scrypt(password: str, stored: str) -> bool:
    """Earlier releases' hashes: scrypt$N$r$p$salt$digest, both base64."""
    try:
        _scheme, n, r, p, salt, digest = stored.split("$")
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))
