"""Import customers, transactions and needs answers from CSV files.

Every row is checked; a bad row is reported with its line number and reason
and the good rows load. Rows are written in batches, each batch in its own
transaction, as upserts by id: importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from segmentation_service.services.csv_rows import (
    CUSTOMERS,
    NEEDS,
    TRANSACTIONS,
    CsvFormat,
    RowError,
)
from segmentation_service.store.uow import UnitOfWork

BATCH_SIZE = 50_000
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class RejectedRow:
    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


@dataclass
class ImportReport:
    loaded: dict[str, int] = field(default_factory=dict)
    rejected: list[RejectedRow] = field(default_factory=list)


def import_files(
    uow: UnitOfWork,
    customers: Path | None = None,
    transactions: Path | None = None,
    needs: Path | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> ImportReport:
    """Load any subset of the three files; customers first, so the others can refer to them."""
    report = ImportReport()
    for csv_format, path in ((CUSTOMERS, customers), (TRANSACTIONS, transactions), (NEEDS, needs)):
        if path is not None:
            first = len(report.rejected)
            _import_file(uow, csv_format, path, report, batch_size, progress)
            report.rejected[first:] = sorted(report.rejected[first:], key=lambda row: row.line)
    return report


def _import_file(
    uow: UnitOfWork,
    csv_format: CsvFormat,
    path: Path,
    report: ImportReport,
    batch_size: int,
    progress: Progress | None,
) -> None:
    report.loaded.setdefault(csv_format.kind, 0)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        header_problem = _check_header(csv_format, header)
        if header_problem:
            report.rejected.append(RejectedRow(path.name, 1, header_problem))
            return
        batch: list[tuple[int, dict[str, Any]]] = []
        for line, row in _rows(reader, header, csv_format, path.name, report):
            batch.append((line, row))
            if len(batch) >= batch_size:
                _write(uow, csv_format, batch, path.name, report, progress)
                batch = []
        _write(uow, csv_format, batch, path.name, report, progress)


def _check_header(csv_format: CsvFormat, header: Sequence[str] | None) -> str | None:
    if not header:
        return "the file is empty: expected a header row"
    names = [name.strip() for name in header]
    missing = [name for name in csv_format.required if name not in names]
    unknown = [name for name in names if name not in csv_format.columns]
    if missing:
        return f"missing required column(s): {', '.join(missing)}"
    if unknown:
        return f"unknown column(s): {', '.join(unknown)}; expected {', '.join(csv_format.columns)}"
    return None


def _rows(
    reader: Any, header: list[str], csv_format: CsvFormat, source: str, report: ImportReport
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Parsed rows with their line numbers; bad and duplicate rows go to the report."""
    seen: dict[tuple[Any, ...], int] = {}
    width = len(header)
    try:
        for fields in reader:
            line = reader.line_num
            if not fields:
                continue  # a blank line
            if len(fields) != width:
                report.rejected.append(RejectedRow(source, line, "wrong number of fields"))
                continue
            try:
                row = csv_format.parse(dict(zip(header, fields, strict=True)))
            except RowError as exc:
                report.rejected.append(RejectedRow(source, line, str(exc)))
                continue
            key = tuple(row[name] for name in csv_format.key)
            if key in seen:
                reason = f"duplicate {'/'.join(csv_format.key)}, first on line {seen[key]}"
                report.rejected.append(RejectedRow(source, line, reason))
                continue
            seen[key] = line
            yield line, row
    except csv.Error as exc:
        report.rejected.append(RejectedRow(source, reader.line_num, f"unreadable CSV: {exc}"))


def _write(
    uow: UnitOfWork,
    csv_format: CsvFormat,
    batch: list[tuple[int, dict[str, Any]]],
    source: str,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    if not batch:
        return
    with uow:
        if csv_format is not CUSTOMERS:
            known = uow.customers.existing_ids([row["customer_id"] for _, row in batch])
            for line, row in batch:
                if row["customer_id"] not in known:
                    reason = f"customer_id: unknown customer {row['customer_id']!r}"
                    report.rejected.append(RejectedRow(source, line, reason))
            batch = [(line, row) for line, row in batch if row["customer_id"] in known]
        rows = [row for _, row in batch]
        _repository(uow, csv_format).upsert(rows)
        uow.commit()
    report.loaded[csv_format.kind] += len(rows)
    if progress is not None:
        progress(csv_format.kind, len(rows))


def _repository(uow: UnitOfWork, csv_format: CsvFormat) -> Any:
    return {"customers": uow.customers, "transactions": uow.transactions, "needs": uow.needs}[
        csv_format.kind
    ]


def load_frame(
    uow: UnitOfWork, kind: str, frame: pd.DataFrame, batch_size: int = BATCH_SIZE
) -> int:
    """Upsert already-checked rows (e.g. generated demo data) in batches.

    ``frame`` has the columns of the CSV format ``kind``; missing values are NA.
    """
    formats = {f.kind: f for f in (CUSTOMERS, TRANSACTIONS, NEEDS)}
    rows = _records(frame)
    for start in range(0, len(rows), batch_size):
        with uow:
            _repository(uow, formats[kind]).upsert(rows[start : start + batch_size])
            uow.commit()
    return len(rows)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values (datetimes, dates, ints, floats, str), NA as None."""
    plain = frame.astype(object).where(frame.notna(), None)
    for column in frame.columns:
        if str(frame[column].dtype).startswith("datetime64"):
            plain[column] = [None if v is None else v.to_pydatetime() for v in plain[column]]
    return [{str(key): value for key, value in row.items()} for row in plain.to_dict("records")]
