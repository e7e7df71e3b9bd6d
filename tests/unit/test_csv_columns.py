"""A batch parsed a column at a time says exactly what parsing each row alone says.

``CsvFormat.parse_columns`` is the import's fast path; ``CsvFormat.parse`` is the
reference (one row, first bad column). Batches mixing good rows with every kind of
bad cell must give the same values for the good rows and the same reason for the bad.
"""

from __future__ import annotations

import random

import pytest

from segmentation_service.services.csv_rows import (
    CUSTOMERS,
    NEEDS,
    TRANSACTIONS,
    CsvFormat,
    Field,
    RowError,
)

CELLS = {
    "text": ["C1", " padded ", "", "x" * 64, "x" * 65, "Zoë", "a,b"],
    "name": ["Acme", "", "n" * 200, "n" * 201],
    "number": ["12.5", " 7 ", "", "-3", "1e3", "abc", "nan", "inf", "1_000", "0x10", "9" * 70],
    "whole": ["3", "3.0", "3.5", "-1", "", "x"],
    "year": ["1980", "1980.0", "1899", "2999", "", "x"],
    "moment": ["2025-01-10", "2025-01-10T12:30:00Z", "2025-01-10 12:30:00+02:00", "", "10/01/2025"],
}
KINDS = {
    "customer_id": "text",
    "transaction_id": "text",
    "need": "text",
    "name": "name",
    "employee_count": "whole",
    "birth_year": "year",
    "annual_revenue": "number",
    "acquisition_cost": "number",
    "annual_cost_to_serve": "number",
    "amount": "number",
    "cost": "number",
    "score": "number",
    "occurred_at": "moment",
    "signup_date": "moment",
    "surveyed_at": "moment",
}


def random_rows(csv_format: CsvFormat, header: list[str], count: int, seed: int) -> list[list[str]]:
    """Mostly good cells (each kind's first), a bad or odd one now and then."""
    rng = random.Random(seed)

    def cell(column: str) -> str:
        cells = CELLS[KINDS.get(column, "text")]
        return rng.choice(cells) if rng.random() < 0.15 else cells[0]

    return [[cell(column) for column in header] for _ in range(count)]


@pytest.mark.parametrize("csv_format", [CUSTOMERS, TRANSACTIONS, NEEDS], ids=lambda f: f.kind)
@pytest.mark.parametrize("seed", range(5))
def test_columns_parse_as_rows_do(csv_format: CsvFormat, seed: int) -> None:
    header = list(csv_format.columns)
    if seed % 2:  # a file without some optional columns, in another order
        header = list(csv_format.required) + list(reversed(csv_format.optional[::2]))
    rows = random_rows(csv_format, header, 300, seed)

    parsed = csv_format.parse_columns(header, rows)

    expected_rows, expected_errors = [], {}
    for position, row in enumerate(rows):
        try:
            expected_rows.append((position, csv_format.parse(dict(zip(header, row, strict=True)))))
        except RowError as error:
            expected_errors[position] = str(error)
    assert {p: str(e) for p, e in parsed.errors.items()} == expected_errors
    assert parsed.positions == [position for position, _ in expected_rows]
    for index, (_position, row) in enumerate(expected_rows):
        assert {name: values[index] for name, values in parsed.columns.items()} == row
    assert expected_errors and expected_rows  # both kinds were compared


def test_a_batch_of_good_rows_is_parsed_without_errors() -> None:
    header = ["transaction_id", "customer_id", "occurred_at", "amount"]
    rows = [[f"T{i}", "C1", "2025-01-10", f"{i}.5"] for i in range(100)]

    parsed = TRANSACTIONS.parse_columns(header, rows)

    assert parsed.errors == {} and parsed.positions == list(range(100))
    assert parsed.columns["amount"][:2] == [0.5, 1.5]
    assert parsed.columns["cost"] == [None] * 100


@pytest.mark.parametrize(
    "field",
    [field for f in (CUSTOMERS, TRANSACTIONS, NEEDS) for field in f.fields if field.convert],
    ids=lambda field: field.column,
)
def test_a_whole_column_converts_as_each_cell_does(field: Field) -> None:
    """The column conversion (calls in C) accepts exactly the cells the one-cell
    conversion does, to the same values; the import relies on it for good batches."""
    conversion = field.convert
    assert conversion is not None
    cells = [cell.strip() for kind in CELLS.values() for cell in kind if cell.strip()]
    good = CELLS[KINDS[field.column]][0]
    refused = 0
    for cell in cells:
        try:
            expected = conversion.one(cell)
        except ValueError:
            refused += 1
            with pytest.raises(ValueError):
                conversion.column([good, cell])
            continue
        assert conversion.column([good, cell]) == [conversion.one(good), expected]
        assert type(conversion.column([cell])[0]) is type(expected)
    assert 0 < refused < len(cells)
