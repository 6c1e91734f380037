"""Bytes kept as files under one directory, for answers that never change for their key."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path


class DiskCache:
    """Files under `directory`, written atomically; one `produce` at a time per process."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def get(self, key: str, produce: Callable[[], bytes]) -> bytes:
        path = self.directory / f"{key}.img"
        if path.exists():
            return path.read_bytes()
        with self._lock:
            if path.exists():
                return path.read_bytes()
            content = produce()
            self._store(path, content)
            return content

    def _store(self, path: Path, content: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(temporary, path)
