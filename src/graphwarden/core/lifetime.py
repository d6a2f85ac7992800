"""Child processes that do not outlive the process that started them.

``graphwarden serve`` with several workers is a master (uvicorn's supervisor) and its children:
the workers and the ledger's integrator. Stopped normally, the master stops them. Killed with
``SIGKILL`` (an OOM killer, ``kill -9``, a crashed container runtime), it cannot, and before this
module its workers went on serving on the inherited socket, orphaned, with no integrator behind
them (records durable but never hashed into the tree or signed) and the port busy for a restart.

:func:`die_with_parent` asks the Linux kernel to signal the calling process when its parent
dies (``prctl(PR_SET_PDEATHSIG)``), then closes the race in which the parent died before the
request: if the parent is no longer the expected process, the signal is raised at once. The
kernel sends the signal when the *thread* that created the child exits, so the parent must
start such children from a thread that lives as long as it does (uvicorn starts its workers
from the main thread; ``serve`` its integrator from the main thread or its watchdog, which
lives until the server stops). Elsewhere than Linux it does nothing and says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

#: from <linux/prctl.h>
PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent_pid: int, sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send ``sig`` to this process when its parent dies; if the parent is
    already gone (no longer ``expected_parent_pid``), send it now. Returns whether the
    parent-death signal is armed (``False`` off Linux or without ``prctl``)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        armed = libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
    if os.getppid() != expected_parent_pid:  # the parent died before the signal was armed
        os.kill(os.getpid(), sig)
    return armed


__all__ = ["PR_SET_PDEATHSIG", "die_with_parent"]
