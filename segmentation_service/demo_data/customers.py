"""Synthetic customer master data: firmographics for B2B, demographics for B2C."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation_service.domain.formats import CUSTOMER_COLUMNS

from .sampling import (
    BoolArray,
    FloatArray,
    IntArray,
    ObjectArray,
    choose,
    choose_per_group,
    days_to_datetimes,
    format_ids,
    pick,
    text,
)
from .vocabulary import (
    AGE_BANDS,
    ARCHETYPES,
    B2B_CHANNEL_SHARES,
    B2B_SHARE,
    B2C_CHANNEL_SHARES,
    CHANNEL_COST_FACTORS,
    CHANNELS,
    COMPANY_PREFIXES,
    COMPANY_SUFFIXES,
    COUNTRIES,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
)

# Employee counts are lognormal: about 48% micro (<10), 31% small, 16% medium, 5% large.
_EMPLOYEES_MEDIAN = 11.0
_EMPLOYEES_LOG_SD = 1.9
_EARLY_SIGNUP_SHARE = 0.04
_EARLY_SIGNUP_EXTRA_YEARS = 5


@dataclass(frozen=True)
class CustomerDraw:
    """The customer frame plus the latent traits the other generators build on."""

    frame: pd.DataFrame
    customer_ids: ObjectArray
    is_b2b: BoolArray
    signup_day: IntArray
    channel: IntArray
    archetype: IntArray
    employees: FloatArray


def draw_customers(
    rng: np.random.Generator, n_customers: int, end_day: int, end_year: int, years: int
) -> CustomerDraw:
    """Draw ``n_customers`` customers who signed up before ``end_day`` (a day number)."""
    n = n_customers
    is_b2b = rng.random(n) < B2B_SHARE
    n_b2b = int(is_b2b.sum())
    customer_type = pick(("B2C", "B2B"), is_b2b.astype(np.int64))

    industry = choose(rng, [i.share for i in INDUSTRIES], n_b2b)
    employees = np.maximum(
        1.0, np.round(rng.lognormal(np.log(_EMPLOYEES_MEDIAN), _EMPLOYEES_LOG_SD, n_b2b))
    )
    revenue_per_employee = np.array([i.revenue_per_employee for i in INDUSTRIES])[industry]
    revenue = np.round(employees * revenue_per_employee * rng.lognormal(0.0, 0.45, n_b2b), 0)

    band = choose(rng, [b.share for b in AGE_BANDS], n - n_b2b)
    youngest = np.array([b.youngest for b in AGE_BANDS])[band]
    oldest = np.array([b.oldest for b in AGE_BANDS])[band]
    age = rng.integers(youngest, oldest + 1)

    country = choose(rng, [c.share for c in COUNTRIES], n)

    channel = choose_per_group(
        rng, [B2C_CHANNEL_SHARES, B2B_CHANNEL_SHARES], is_b2b.astype(np.int64)
    )
    signup_day = _draw_signup_days(rng, n, end_day, years)
    archetype = choose(rng, [a.share for a in ARCHETYPES], n)

    employees_all = np.full(n, np.nan)
    employees_all[is_b2b] = employees
    size_factor = np.where(
        is_b2b, np.power(np.nan_to_num(employees_all, nan=10.0) / 10.0, 0.2), 1.0
    )
    channel_factor = np.asarray(CHANNEL_COST_FACTORS)[channel]
    acquisition_cost = np.where(is_b2b, 1200.0, 45.0) * channel_factor * rng.gamma(2.0, 0.5, n)
    cost_to_serve = (
        np.where(is_b2b, 600.0, 25.0) * size_factor * channel_factor * rng.gamma(3.0, 1 / 3, n)
    )

    names = np.empty(n, dtype=object)
    names[is_b2b] = _company_names(rng, industry, country[is_b2b])
    names[~is_b2b] = _person_names(rng, n - n_b2b)

    customer_ids = format_ids("C", np.arange(1, n + 1), max(7, len(str(n))))
    frame = pd.DataFrame(
        {
            "customer_id": text(customer_ids),
            "name": text(names),
            "customer_type": text(customer_type),
            "industry": text(_scatter(is_b2b, pick([i.name for i in INDUSTRIES], industry))),
            "employee_count": _scatter_int(is_b2b, employees.astype(np.int64)),
            "annual_revenue": _scatter_float(is_b2b, revenue),
            "region": text(pick([c.region for c in COUNTRIES], country)),
            "country": text(pick([c.code for c in COUNTRIES], country)),
            "birth_year": _scatter_int(~is_b2b, end_year - age),
            "preferred_channel": text(pick(CHANNELS, channel)),
            "signup_date": days_to_datetimes(signup_day),
            "acquisition_cost": np.round(acquisition_cost, 2),
            "annual_cost_to_serve": np.round(cost_to_serve, 2),
        },
        columns=list(CUSTOMER_COLUMNS),
    )
    return CustomerDraw(frame, customer_ids, is_b2b, signup_day, channel, archetype, employees_all)


def _draw_signup_days(rng: np.random.Generator, n: int, end_day: int, years: int) -> IntArray:
    """Uniform over the last ``years`` years; a few customers joined up to five years earlier."""
    window = years * 365
    days_before = rng.integers(0, window, n)
    early = rng.random(n) < _EARLY_SIGNUP_SHARE
    days_before[early] = rng.integers(
        window, window + _EARLY_SIGNUP_EXTRA_YEARS * 365, int(early.sum())
    )
    return end_day - days_before


def _company_names(rng: np.random.Generator, industry: IntArray, country: IntArray) -> ObjectArray:
    """Compose names like "Nordwind Logistics GmbH": stem, industry word, local legal form."""
    n = len(industry)
    prefix = pick(COMPANY_PREFIXES, rng.integers(0, len(COMPANY_PREFIXES), n))
    suffix = pick(COMPANY_SUFFIXES, rng.integers(0, len(COMPANY_SUFFIXES), n))
    word = _pick_ragged([i.name_words for i in INDUSTRIES], industry, rng)
    legal_form = _pick_ragged([c.legal_forms for c in COUNTRIES], country, rng)
    names: ObjectArray = prefix + suffix + " " + word + " " + legal_form
    return names


def _pick_ragged(
    options: list[tuple[str, ...]], row: IntArray, rng: np.random.Generator
) -> ObjectArray:
    """Pick one string uniformly from ``options[row]`` for every element of ``row``."""
    widest = max(len(choices) for choices in options)
    table = np.array([[*choices, *[""] * (widest - len(choices))] for choices in options], object)
    counts = np.array([len(choices) for choices in options])[row]
    picked: ObjectArray = table[row, (rng.random(len(row)) * counts).astype(np.int64)]
    return picked


def _person_names(rng: np.random.Generator, n: int) -> ObjectArray:
    first = pick(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), n))
    last = pick(LAST_NAMES, rng.integers(0, len(LAST_NAMES), n))
    names: ObjectArray = first + " " + last
    return names


def _scatter(mask: BoolArray, values: ObjectArray) -> ObjectArray:
    column = np.full(len(mask), None, dtype=object)
    column[mask] = values
    return column


def _scatter_float(mask: BoolArray, values: FloatArray) -> FloatArray:
    column = np.full(len(mask), np.nan)
    column[mask] = values
    return column


def _scatter_int(mask: BoolArray, values: IntArray) -> pd.arrays.IntegerArray:
    column = np.zeros(len(mask), dtype=np.int64)
    column[mask] = values
    return pd.arrays.IntegerArray(column, ~mask)
