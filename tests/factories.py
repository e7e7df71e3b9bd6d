"""Test data: generated demo stores and hand-made rows."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

import pandas as pd

from segmentation_service.demo_data import DemoData, generate_demo_data
from segmentation_service.services.importing import load_frame
from segmentation_service.store.database import Store

END_DATE = date(2026, 6, 30)


@lru_cache(maxsize=8)
def demo(n: int = 300, seed: int = 0) -> DemoData:
    return generate_demo_data(n, seed, end_date=END_DATE)


def load_demo(store: Store, n: int = 300, seed: int = 0) -> DemoData:
    data = demo(n, seed)
    load_frame(store.unit_of_work(), "customers", data.customers)
    load_frame(store.unit_of_work(), "transactions", data.transactions)
    load_frame(store.unit_of_work(), "needs", data.needs)
    return data


def make_customers(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Customers with every column the store keeps, indexed by customer_id."""
    return demo(max(n, 60), seed).customers.head(n).set_index("customer_id")


def customer(customer_id: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "customer_id": customer_id,
        "name": f"Customer {customer_id}",
        "customer_type": None,
        "industry": None,
        "employee_count": None,
        "annual_revenue": None,
        "region": None,
        "country": None,
        "birth_year": None,
        "preferred_channel": None,
        "signup_date": None,
        "acquisition_cost": None,
        "annual_cost_to_serve": None,
    }
    row.update(values)
    return row


def transaction(
    transaction_id: str,
    customer_id: str,
    occurred_at: datetime,
    amount: float,
    cost: float | None = None,
) -> dict[str, Any]:
    return {
        "transaction_id": transaction_id,
        "customer_id": customer_id,
        "occurred_at": occurred_at,
        "amount": amount,
        "cost": cost,
        "channel": None,
        "category": None,
    }
