"""Peak resident memory of processes, sampled in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

import psutil


class PeakRss:
    """``with PeakRss(pids):`` samples the RSS of each pid every ``interval`` seconds.

    ``peak_process`` is the largest RSS any one process reached (the worker
    that ran the call), ``peak_total`` the largest sum over the processes.
    """

    def __init__(self, pids: Callable[[], list[int]], interval: float = 0.05) -> None:
        self._pids = pids
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.peak_process = 0
        self.peak_total = 0
        self.samples = 0

    def _sample(self) -> None:
        processes: dict[int, psutil.Process] = {}
        while True:
            total = 0
            for pid in self._pids():
                try:
                    process = processes.setdefault(pid, psutil.Process(pid))
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                self.peak_process = max(self.peak_process, rss)
            self.peak_total = max(self.peak_total, total)
            self.samples += 1
            if self._stop.wait(self._interval):
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
