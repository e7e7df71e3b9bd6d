"""The three CSV formats customer data arrives in (import and demo data).

Required columns first; the rest are optional. Standard library only.
"""

from __future__ import annotations

CUSTOMER_REQUIRED: tuple[str, ...] = ("customer_id", "name")
CUSTOMER_COLUMNS: tuple[str, ...] = (
    *CUSTOMER_REQUIRED,
    "customer_type",
    "industry",
    "employee_count",
    "annual_revenue",
    "region",
    "country",
    "birth_year",
    "preferred_channel",
    "signup_date",
    "acquisition_cost",
    "annual_cost_to_serve",
)
TRANSACTION_REQUIRED: tuple[str, ...] = ("transaction_id", "customer_id", "occurred_at", "amount")
TRANSACTION_COLUMNS: tuple[str, ...] = (*TRANSACTION_REQUIRED, "cost", "channel", "category")
NEED_REQUIRED: tuple[str, ...] = ("customer_id", "need", "score")
NEED_COLUMNS: tuple[str, ...] = (*NEED_REQUIRED, "surveyed_at")
