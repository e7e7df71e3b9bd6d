"""Generated data sets, cached as CSV under bench/.cache keyed by size, seed and end date.

``generate_demo_data`` gives about 10 transactions and one needs survey
(several answers) per customer; ``write_demo_csv`` writes the import files.
"""

from __future__ import annotations

import itertools
import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from segmentation_service.demo_data import generate_demo_data, write_demo_csv

CACHE = Path(__file__).resolve().parent / ".cache"
# A fixed history end keeps cached data sets reproducible; runs are "as of today".
END_DATE = date(2026, 6, 30)
KINDS = ("customers", "transactions", "needs")


@dataclass(frozen=True)
class Dataset:
    size: int
    seed: int
    directory: Path
    rows: dict[str, int]

    def csv(self, kind: str) -> Path:
        return self.directory / f"{kind}.csv"

    def head_csv(self, kind: str, limit: int | None) -> tuple[Path, int]:
        """The file of ``kind`` cut to its first ``limit`` rows (cached), and its row count."""
        if limit is None or limit >= self.rows[kind]:
            return self.csv(kind), self.rows[kind]
        path = self.directory / f"{kind}.head{limit}.csv"
        if not path.exists():
            partial = path.with_suffix(".part")
            with self.csv(kind).open(encoding="utf-8") as source, partial.open("w") as target:
                # Generated fields never hold line breaks, so lines are rows.
                target.writelines(itertools.islice(source, limit + 1))
            partial.rename(path)
        return path, limit

    def customer_ids(self) -> list[str]:
        """Every customer id, in file order."""
        with self.csv("customers").open(encoding="utf-8") as handle:
            next(handle)
            return [line.split(",", 1)[0] for line in handle]


def ensure_dataset(size: int, seed: int = 0) -> Dataset:
    directory = CACHE / f"n{size}-seed{seed}-end{END_DATE:%Y%m%d}"
    meta = directory / "rows.json"
    if not meta.exists():
        shutil.rmtree(directory, ignore_errors=True)
        data = generate_demo_data(size, seed, end_date=END_DATE)
        write_demo_csv(data, directory)
        rows = {
            "customers": len(data.customers),
            "transactions": len(data.transactions),
            "needs": len(data.needs),
        }
        del data
        # Written last: its presence marks a complete data set.
        meta.write_text(json.dumps(rows))
    return Dataset(size, seed, directory, json.loads(meta.read_text()))
