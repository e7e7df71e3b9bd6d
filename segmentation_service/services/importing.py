"""Import customers, transactions and needs answers from CSV files.

The files come checked by ``csv_files.check_file``: each decodes in full in its
encoding, so an encoding error refuses the whole import before anything is
written. Every row is checked; a bad row is reported with the line it starts on
and its reason, and the good rows load. Rows are written in batches, each batch
in its own transaction, as upserts by id: importing the same file twice changes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from segmentation_service.services.csv_files import (
    CsvFile,
    UnreadableRecord,
    describe_delimiter,
    detect_delimiter,
    records,
)
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
    files: Mapping[str, CsvFile],
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> ImportReport:
    """Load the files given by kind (any subset of the three); customers first, so the
    others can refer to them."""
    report = ImportReport()
    for csv_format in (CUSTOMERS, TRANSACTIONS, NEEDS):
        csv_file = files.get(csv_format.kind)
        if csv_file is not None:
            first = len(report.rejected)
            _import_file(uow, csv_format, csv_file, report, batch_size, progress)
            report.rejected[first:] = sorted(report.rejected[first:], key=lambda row: row.line)
    return report


def _import_file(
    uow: UnitOfWork,
    csv_format: CsvFormat,
    csv_file: CsvFile,
    report: ImportReport,
    batch_size: int,
    progress: Progress | None,
) -> None:
    report.loaded.setdefault(csv_format.kind, 0)
    source = csv_file.path.name
    with csv_file.open() as handle:
        lines = _readable(records(handle, csv_file.delimiter), source, report)
        header = [name.strip() for name in next(lines, (1, []))[1]]
        header_problem = _check_header(csv_format, header, csv_file.delimiter)
        if header_problem:
            report.rejected.append(RejectedRow(source, 1, header_problem))
            return
        batch: list[tuple[int, dict[str, Any]]] = []
        for line, row in _rows(lines, header, csv_format, source, report):
            batch.append((line, row))
            if len(batch) >= batch_size:
                _write(uow, csv_format, batch, source, report, progress)
                batch = []
        _write(uow, csv_format, batch, source, report, progress)


def _readable(
    lines: Iterator[tuple[int, list[str]]], source: str, report: ImportReport
) -> Iterator[tuple[int, list[str]]]:
    """The records up to one the CSV reader gives up on, which is reported."""
    try:
        yield from lines
    except UnreadableRecord as exc:
        reason = f"unreadable CSV: {exc}; the rest of the file was not read"
        report.rejected.append(RejectedRow(source, exc.line, reason))


def _check_header(csv_format: CsvFormat, header: Sequence[str], delimiter: str) -> str | None:
    if not header:
        return "the file is empty: expected a header row"
    names = [name.strip() for name in header]
    missing = [name for name in csv_format.required if name not in names]
    unknown = [name for name in names if name not in csv_format.columns]
    if missing:
        problem = f"missing required column(s): {', '.join(missing)}"
        guess = detect_delimiter(names[0])
        if len(names) == 1 and guess in names[0]:  # read as one column: another delimiter
            problem += (
                f" (the header holds no {describe_delimiter(delimiter)}; "
                f"is the delimiter a {describe_delimiter(guess)}? see --delimiter)"
            )
        return problem
    if unknown:
        return f"unknown column(s): {', '.join(unknown)}; expected {', '.join(csv_format.columns)}"
    return None


def _rows(
    lines: Iterator[tuple[int, list[str]]],
    header: list[str],
    csv_format: CsvFormat,
    source: str,
    report: ImportReport,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Parsed rows with the lines they start on; bad and duplicate rows go to the report."""
    seen: dict[tuple[Any, ...], int] = {}
    width = len(header)
    for line, fields in lines:
        if not fields:
            continue  # a blank line
        if len(fields) != width:
            reason = f"wrong number of fields ({len(fields)}, the header has {width})"
            report.rejected.append(RejectedRow(source, line, reason))
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
