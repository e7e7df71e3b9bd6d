"""The local executor's fork server imports this first (its preload): code and a lifeline.

The fork server is the process the pool's processes are forked from. Importing
the partition code here means each pool process starts with it loaded; the
lifeline has the kernel kill the fork server when the process that started it
dies (even by SIGKILL), and each pool process when the fork server dies, so a
killed run worker leaves no processes behind. Nothing else imports this module.
"""

from __future__ import annotations

import ctypes
import signal

import segmentation_service.services.partition_tasks  # noqa: F401  (loaded once, here)

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent exits."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


die_with_parent()
