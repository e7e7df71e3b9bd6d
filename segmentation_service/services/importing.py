"""Import customers, transactions and needs answers from CSV files.

The files come checked by ``csv_files.check_file``: each decodes in full in its
encoding, so an encoding error refuses the whole import before anything is
written. Every row is checked; a bad row is reported with the line it starts on
and its reason, and the good rows load. Rows are written in batches, each batch
in its own transaction, as upserts by id: importing the same file twice changes
nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from segmentation_service.services.csv_files import (
    CsvFile,
    RecordBatch,
    RecordReader,
    describe_delimiter,
    detect_delimiter,
)
from segmentation_service.services.csv_rows import (
    CUSTOMERS,
    NEEDS,
    TRANSACTIONS,
    CsvFormat,
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
    with _collector_paused():
        for csv_format in (CUSTOMERS, TRANSACTIONS, NEEDS):
            csv_file = files.get(csv_format.kind)
            if csv_file is not None:
                first = len(report.rejected)
                _import_file(uow, csv_format, csv_file, report, batch_size, progress)
                report.rejected[first:] = sorted(report.rejected[first:], key=lambda r: r.line)
    return report


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the files load.

    Every record read is a new list, so the collector ran every few hundred records
    and each full pass walked the file's keys seen so far: a quarter of an import's
    time. The import makes no reference cycles to speak of (its lists, tuples and
    dicts are freed by reference counting, batch by batch), so memory stays bounded;
    what cycles there are go at the next collection after it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
        reader = RecordReader(handle, csv_file.delimiter)
        first = reader.batch(1)
        header = [name.strip() for name in (first.records or [[]])[0]]
        _report_unreadable(first, source, report)
        header_problem = _check_header(csv_format, header, csv_file.delimiter)
        if header_problem:
            report.rejected.append(RejectedRow(source, 1, header_problem))
            return
        loader = _BatchLoader(uow, csv_format, header, source, report, progress)
        while not reader.finished:
            batch = reader.batch(batch_size)
            loader.load(*_of_width(batch, len(header), source, report))
            _report_unreadable(batch, source, report)


def _of_width(
    batch: RecordBatch, width: int, source: str, report: ImportReport
) -> tuple[list[list[str]], list[int]]:
    """The batch's records with as many fields as the header, and their lines; the
    others are reported, but for blank lines."""
    if set(map(len, batch.records)) <= {width}:  # checked in C: nearly always
        return batch.records, batch.lines
    records: list[list[str]] = []
    lines: list[int] = []
    for fields, line in zip(batch.records, batch.lines, strict=True):
        if len(fields) == width:
            records.append(fields)
            lines.append(line)
        elif fields:  # else a blank line
            reason = f"wrong number of fields ({len(fields)}, the header has {width})"
            report.rejected.append(RejectedRow(source, line, reason))
    return records, lines


def _report_unreadable(batch: RecordBatch, source: str, report: ImportReport) -> None:
    """The record the CSV reader gave up on, if any."""
    if batch.unreadable is not None:
        reason = f"unreadable CSV: {batch.unreadable}; the rest of the file was not read"
        report.rejected.append(RejectedRow(source, batch.unreadable.line, reason))


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


class _BatchLoader:
    """Checks batches of records a column at a time and upserts their good rows.

    Bad rows, rows repeating an earlier row's key (anywhere in the file) and, for
    transactions and needs, rows of unknown customers go to the report with their line.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        csv_format: CsvFormat,
        header: list[str],
        source: str,
        report: ImportReport,
        progress: Progress | None,
    ) -> None:
        self._uow, self._format, self._header = uow, csv_format, header
        self._source, self._report, self._progress = source, report, progress
        self._seen: dict[Any, int] = {}  # key (a tuple when it has several columns) -> line

    def load(self, records: list[list[str]], lines: list[int]) -> None:
        """Check ``records`` (as wide as the header; ``lines``: where each starts) and
        upsert the good ones in one transaction."""
        if not records:
            return
        parsed = self._format.parse_columns(self._header, records)
        for position, error in parsed.errors.items():
            self._reject(lines[position], str(error))
        if parsed.errors:
            lines = [lines[position] for position in parsed.positions]
        keep = self._first_of_each_key(parsed.columns, lines)
        with self._uow as uow:
            if self._format is not CUSTOMERS:
                keep = self._of_known_customers(uow, parsed.columns, lines, keep)
            columns = _rows_at(parsed.columns, keep, len(lines))
            _repository(uow, self._format).upsert_columns(columns)
            uow.commit()
        self._report.loaded[self._format.kind] += len(keep)
        if self._progress is not None:
            self._progress(self._format.kind, len(keep))

    def _first_of_each_key(self, columns: dict[str, list[Any]], lines: list[int]) -> list[int]:
        """The positions of the rows whose key no earlier row (of this file) had."""
        names = self._format.key
        keys: list[Any] = (
            columns[names[0]]
            if len(names) == 1
            else list(zip(*(columns[n] for n in names), strict=True))
        )
        fresh = dict(zip(keys, lines, strict=True))
        if len(fresh) == len(keys) and self._seen.keys().isdisjoint(fresh):  # nearly always
            self._seen.update(fresh)
            return list(range(len(keys)))
        keep: list[int] = []
        for position, key in enumerate(keys):
            first = self._seen.get(key)
            if first is not None:
                self._reject(lines[position], f"duplicate {'/'.join(names)}, first on line {first}")
                continue
            self._seen[key] = lines[position]
            keep.append(position)
        return keep

    def _of_known_customers(
        self, uow: UnitOfWork, columns: dict[str, list[Any]], lines: list[int], keep: list[int]
    ) -> list[int]:
        ids = columns["customer_id"]
        kept_ids = ids if len(keep) == len(ids) else [ids[position] for position in keep]
        known = uow.customers.existing_ids(kept_ids)
        if known.issuperset(kept_ids):  # nearly always
            return keep
        for position in keep:
            if ids[position] not in known:
                self._reject(lines[position], f"customer_id: unknown customer {ids[position]!r}")
        return [position for position in keep if ids[position] in known]

    def _reject(self, line: int, reason: str) -> None:
        self._report.rejected.append(RejectedRow(self._source, line, reason))


def _rows_at(
    columns: dict[str, list[Any]], positions: list[int], size: int
) -> dict[str, list[Any]]:
    """The columns cut to the rows at ``positions`` (all ``size`` of them: as they are)."""
    if len(positions) == size:
        return columns
    return {name: [values[p] for p in positions] for name, values in columns.items()}


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
