"""Worker processes for runs that go to several cores at once.

:func:`process_pool` makes the ``ProcessPoolExecutor`` the benchmark drivers share: spawned
processes (no forked copies of a parent's torch threads or open files), each of which exits on
its own once the process that made it is gone. Without that, a driver stopped by ``SIGTERM`` or
``SIGKILL`` leaves its workers running until their current run ends, since the pool's own
shutdown only happens in a driver that is still alive. (Ctrl-C reaches the whole process group,
so the workers stop with it either way.)
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Callable

#: seconds between a worker's checks that its parent is still alive
PARENT_POLL_S = 0.5


def process_pool(workers: int, initializer: Callable | None = None, initargs: tuple = ()) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes that exit when this process dies; each runs
    ``initializer(*initargs)`` once when it starts, where given."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(os.getpid(), initializer, initargs))


def _start_worker(parent: int, initializer: Callable | None, initargs: tuple) -> None:
    _exit_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: a daemon thread ends the worker once it has been re-parented, i.e.
    once ``parent`` has exited (by a signal or a crash, so it could not shut the pool down)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="moo-exit-with-parent", daemon=True).start()
