"""gunicorn settings file of the benchmarks, the same for an app and its baseline: each worker,
once it has loaded the app, leaves a file named by its pid in $BENCH_READY_DIR.

gunicorn's socket accepts connections as soon as the master has bound it, while the workers are
still importing the app; a measurement begun then would time the start-up as well."""

import os
from pathlib import Path
from typing import Any


def post_worker_init(worker: Any) -> None:
    folder = Path(os.environ["BENCH_READY_DIR"])
    folder.mkdir(parents=True, exist_ok=True)  # gone once all were ready; a restart comes late
    (folder / str(worker.pid)).touch()
