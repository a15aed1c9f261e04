"""The one writer of the working warehouse (docs/decisions.md D-74)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from kefu.home import Home
from kefu.pipeline.common import PipelineError


@contextmanager
def writer_lock(home: Home, wait: bool = True) -> Iterator[None]:
    """The one writer of the working warehouse, also outside Airflow (kefu nightly / rebuild by hand):
    an exclusive flock on warehouse/.writer.lock, released by the kernel if the process dies."""
    home.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with open(home.warehouse.parent / ".writer.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise PipelineError(f"another run is writing {home.warehouse} (仓库正在更新); try again later") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
