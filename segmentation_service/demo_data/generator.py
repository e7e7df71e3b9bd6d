"""Entry points: draw all demo tables from one seed, and write them as CSV files."""

from __future__ import annotations

import datetime
import pathlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .customers import draw_customers
from .needs import draw_needs
from .sampling import day_number
from .styles import draw_styles
from .transactions import draw_transactions


@dataclass(frozen=True)
class DemoData:
    """Synthetic CRM tables plus the planted needs segments.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer, columns ``CUSTOMER_COLUMNS``.
    transactions : pandas.DataFrame
        Purchases and returns, columns ``TRANSACTION_COLUMNS``, ids in time order.
    needs : pandas.DataFrame
        Survey answers in long format, columns ``NEED_COLUMNS``.
    needs_truth : pandas.Series
        Planted archetype (0 to 4) of each surveyed customer, indexed by ``customer_id``.
    behaviour_truth : pandas.Series
        Planted buying style (a ``BUYING_STYLES`` label) of every customer, indexed by
        ``customer_id``.
    """

    customers: pd.DataFrame
    transactions: pd.DataFrame
    needs: pd.DataFrame
    needs_truth: pd.Series
    behaviour_truth: pd.Series


def generate_demo_data(
    n_customers: int = 2000, seed: int = 0, *, end_date: datetime.date, years: int = 3
) -> DemoData:
    """Draw a reproducible synthetic CRM data set.

    Parameters
    ----------
    n_customers : int
        Number of customers, at least one.
    seed : int
        Seed of ``numpy.random.default_rng``; equal arguments give identical frames.
    end_date : datetime.date
        Last day of the history; no signup, transaction or survey is later.
    years : int
        Length of the signup window before ``end_date``; about 4% of customers signed up
        up to five years earlier still.

    Returns
    -------
    DemoData
        Customers, transactions, needs answers and the planted needs and behaviour segments.
    """
    if n_customers < 1:
        raise ValueError(f"n_customers must be at least 1, got {n_customers}")
    if years < 1:
        raise ValueError(f"years must be at least 1, got {years}")
    # Independent child streams: changing one table's recipe leaves the others unchanged.
    # SeedSequence.spawn numbers its children, so the styles' stream, spawned last, left
    # the first three (and so customers and needs) as they were.
    rngs = np.random.default_rng(seed).spawn(4)
    customer_rng, transaction_rng, needs_rng, style_rng = rngs
    end_day = day_number(end_date)
    customers = draw_customers(customer_rng, n_customers, end_day, end_date.year, years)
    style, behaviour_truth = draw_styles(style_rng, customers)
    transactions = draw_transactions(transaction_rng, customers, style, end_day)
    needs, needs_truth = draw_needs(needs_rng, customers, end_day)
    return DemoData(customers.frame, transactions, needs, needs_truth, behaviour_truth)


def write_demo_csv(data: DemoData, directory: pathlib.Path) -> dict[str, pathlib.Path]:
    """Write the three tables as CSV files with header rows.

    Parameters
    ----------
    data : DemoData
        The tables to write.
    directory : pathlib.Path
        Target directory; created if missing. Existing files are overwritten.

    Returns
    -------
    dict of str to pathlib.Path
        Paths of ``customers.csv``, ``transactions.csv`` and ``needs.csv`` under the keys
        ``"customers"``, ``"transactions"`` and ``"needs"``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    tables = {"customers": data.customers, "transactions": data.transactions, "needs": data.needs}
    paths: dict[str, pathlib.Path] = {}
    for kind, frame in tables.items():
        path = directory / f"{kind}.csv"
        frame.to_csv(path, index=False)
        paths[kind] = path
    return paths
