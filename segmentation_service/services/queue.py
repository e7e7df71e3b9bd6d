"""What the service layer needs of a job queue: hand it a run to execute."""

from __future__ import annotations

from typing import Protocol


class RunQueue(Protocol):
    def enqueue(self, run_id: int) -> None:
        """Have a run worker execute ``run_id`` (``services.segmentation.execute_run``)."""
