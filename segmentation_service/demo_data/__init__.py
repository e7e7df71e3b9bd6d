"""Deterministic synthetic CRM data for demos, tests and benchmarks.

Customers, their purchase histories (shaped by each customer's planted buying style) and
their needs-survey answers are drawn from one seeded generator (numpy and pandas only), in
the service's CSV import formats::

    data = generate_demo_data(2000, seed=0, end_date=datetime.date(2025, 6, 30))
    write_demo_csv(data, pathlib.Path("demo"))
"""

from __future__ import annotations

from segmentation_service.domain.formats import CUSTOMER_COLUMNS, NEED_COLUMNS, TRANSACTION_COLUMNS

from .generator import DemoData, generate_demo_data, write_demo_csv
from .vocabulary import NEEDS

__all__ = [
    "CUSTOMER_COLUMNS",
    "NEEDS",
    "NEED_COLUMNS",
    "TRANSACTION_COLUMNS",
    "DemoData",
    "generate_demo_data",
    "write_demo_csv",
]
