"""Generated data sets, cached as CSV under bench/.cache keyed by size, seed and end date.

``generate_demo_data`` gives about 10 transactions and one needs survey
(several answers) per customer; ``write_demo_csv`` writes the import files.

A data set larger than ``chunk`` customers (default ``CHUNK_CUSTOMERS``) does
not fit in memory at once (10M customers are ~100M transactions): it is drawn
in blocks of ``chunk`` customers, each from its own seed (``chunk_seed``), and
appended to the CSV files with its ids shifted past the previous blocks'
(customer ids C00000001.., transaction ids in time order within a block only).
Its directory name says so (``...-chunk1000000``): its rows differ from those
of an unchunked data set of the same size and seed.
"""

from __future__ import annotations

import itertools
import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation_service.demo_data import DemoData, generate_demo_data, write_demo_csv
from segmentation_service.demo_data.sampling import format_ids

CACHE = Path(__file__).resolve().parent / ".cache"
# A fixed history end keeps cached data sets reproducible; runs are "as of today".
END_DATE = date(2026, 6, 30)
KINDS = ("customers", "transactions", "needs")
# Customers drawn at once at most: 1M customers (10M transactions) take a few GB to draw.
CHUNK_CUSTOMERS = 1_000_000


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


def ensure_dataset(size: int, seed: int = 0, chunk: int | None = None) -> Dataset:
    """The cached data set of ``size`` customers, generated first when missing.

    Drawn in blocks of ``chunk`` customers (default ``CHUNK_CUSTOMERS``) when it has more.
    """
    chunk = chunk or CHUNK_CUSTOMERS
    chunked = size > chunk
    name = f"n{size}-seed{seed}-end{END_DATE:%Y%m%d}" + (f"-chunk{chunk}" if chunked else "")
    directory = CACHE / name
    meta = directory / "rows.json"
    if not meta.exists():
        shutil.rmtree(directory, ignore_errors=True)
        if chunked:
            rows = _generate_in_chunks(size, seed, chunk, directory)
        else:
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


def chunk_seed(seed: int, index: int) -> int:
    """The seed of block ``index`` of a chunked data set: distinct per (seed, index)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def _generate_in_chunks(size: int, seed: int, chunk: int, directory: Path) -> dict[str, int]:
    """Append blocks of ``chunk`` customers to the CSV files, ids shifted past earlier blocks."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = dict.fromkeys(KINDS, 0)
    digits = {"C": max(7, len(str(size))), "T": max(8, len(str(size * 20)))}
    for index, first in enumerate(range(0, size, chunk)):
        customers = min(chunk, size - first)
        data = generate_demo_data(customers, chunk_seed(seed, index), end_date=END_DATE)
        for kind, frame in shifted_tables(data, first, rows["transactions"], digits).items():
            path = directory / f"{kind}.csv"
            frame.to_csv(path, mode="w" if index == 0 else "a", header=index == 0, index=False)
            rows[kind] += len(frame)
        del data
        print(f"    data set {size:,}: {first + customers:,} customers written", flush=True)
    return rows


def shifted_tables(
    data: DemoData, customers_before: int, transactions_before: int, digits: dict[str, int]
) -> dict[str, pd.DataFrame]:
    """One block's tables, its customer and transaction numbers shifted past earlier blocks'.

    ``digits`` gives the width of the numbers after the "C" and "T" prefixes.
    """

    def shift(ids: pd.Series, prefix: str, offset: int) -> pd.Series:
        numbers = ids.str.slice(len(prefix)).to_numpy(dtype=np.int64) + offset
        return pd.Series(format_ids(prefix, numbers, digits[prefix]), index=ids.index, dtype=object)

    customers = data.customers.assign(
        customer_id=shift(data.customers["customer_id"], "C", customers_before)
    )
    transactions = data.transactions.assign(
        transaction_id=shift(data.transactions["transaction_id"], "T", transactions_before),
        customer_id=shift(data.transactions["customer_id"], "C", customers_before),
    )
    needs = data.needs.assign(customer_id=shift(data.needs["customer_id"], "C", customers_before))
    return {"customers": customers, "transactions": transactions, "needs": needs}
