"""Long id lists cut into IN clauses a database accepts (no pandas: the CLI imports it)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

# SQLite allows 32,766 bound variables per statement; stay well below it.
IN_CLAUSE_CHUNK = 5_000


def chunks(items: Sequence[Any], size: int = IN_CLAUSE_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
