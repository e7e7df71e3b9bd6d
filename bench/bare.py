"""Bare pipelines: the work SegmentCustomers does, with the same libraries and nothing else.

Each is one SQL aggregate or read, the same pandas / scikit-learn (and, for
value, the service's own BG/NBD and Gamma-Gamma fits) computation, and one
bulk write of one assignment row per customer (code, score, value and a
reason sentence). Timed in three parts: read, compute, write.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from bench.bare_sql import VALUE_COLUMNS, BareStore
from segmentation_service.domain.errors import InsufficientData
from segmentation_service.engines import clv
from segmentation_service.engines.clustering import SILHOUETTE_WORKING_MB

SAMPLE = 5000
K_RANGE = range(2, 11)
N_INIT = 10
# As the service's engine: one OpenMP/BLAS thread for work on fewer rows than this.
PARALLEL_MIN_ROWS = 100_000
TIERS = ("Platinum", "Gold", "Silver", "Bronze")


@dataclass
class BareResult:
    method: str
    seconds: float
    read_s: float
    compute_s: float
    write_s: float
    customers: int
    assigned: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rows(run_id: int, ids: Any, codes: Any, scores: Any, values: Any, reasons: Any) -> list[Any]:
    def nullable(numbers: Any) -> list[float | None]:
        return [None if x != x else x for x in np.asarray(numbers, dtype=float).tolist()]

    return list(
        zip(
            [run_id] * len(ids),
            list(ids),
            list(codes),
            nullable(scores),
            nullable(values),
            list(reasons),
            strict=True,
        )
    )


def a_priori(store: BareStore) -> BareResult:
    """Group by customer type and region; groups under 1% of customers become OTHER."""
    started = time.perf_counter()
    frame = pd.DataFrame(
        store.fetch("SELECT customer_id, customer_type, region FROM customers"),
        columns=["customer_id", "customer_type", "region"],
    )
    read = time.perf_counter()
    kind = frame["customer_type"].fillna("Unknown")
    region = frame["region"].fillna("Unknown")
    codes = (kind.str.upper() + "-" + region.str.upper()).to_numpy(dtype=object)
    sizes = pd.Series(codes).value_counts()
    small = sizes[sizes < 0.01 * len(frame)].index
    codes[np.isin(codes, small)] = "OTHER"
    reasons = ("customerType is " + kind + " and region is " + region).to_numpy(dtype=object)
    nothing = np.full(len(frame), np.nan)
    rows = _rows(1, frame["customer_id"], codes, nothing, nothing, reasons)
    computed = time.perf_counter()
    store.clear()
    write = store.write(rows)
    return BareResult(
        "APriori",
        time.perf_counter() - started,
        read - started,
        computed - read,
        write,
        len(frame),
        len(frame),
    )


def value_based(store: BareStore, as_of: date) -> BareResult:
    """Margin tiers (4, equal counts), RFM thresholds, BG/NBD and Gamma-Gamma fits."""
    started = time.perf_counter()
    aggregates = pd.DataFrame(store.fetch(store.value_aggregate_sql(as_of)), columns=VALUE_COLUMNS)
    ids = pd.DataFrame(store.fetch("SELECT customer_id FROM customers"), columns=["customer_id"])
    read = time.perf_counter()
    frame = ids.merge(aggregates, on="customer_id", how="left")
    first = pd.to_datetime(frame["first_day"])
    last = pd.to_datetime(frame["last_day"])
    end = pd.Timestamp(as_of)
    buyer = first.notna().to_numpy()
    b = frame[buyer]
    margin = (b["revenue"] - b["cost"]).to_numpy(float)
    frequency = np.maximum(b["purchase_days"].to_numpy(float) - 1, 0)
    recency_weeks = ((last[buyer] - first[buyer]).dt.days / 7).to_numpy(float)
    t_weeks = np.maximum((end - first[buyer]).dt.days / 7, 1 / 7).to_numpy(float)
    recency_days = (end - last[buyer]).dt.days.to_numpy(float)
    for values in (-recency_days, b["purchase_count"].to_numpy(float), b["revenue"].to_numpy()):
        ordered = np.sort(values)
        thresholds = [ordered[max(math.ceil(k * len(ordered) / 5) - 1, 0)] for k in range(1, 5)]
        _scores = 1 + (values[:, None] > np.asarray(thresholds)[None, :]).sum(axis=1)
    clv.fit_bgnbd(frequency, recency_weeks, t_weeks)
    repeat = frequency > 0
    spend = np.divide(
        b["repeat_spend"].to_numpy(float), frequency, out=np.zeros(len(b)), where=repeat
    )
    try:
        clv.fit_gamma_gamma(frequency[repeat], spend[repeat])
    except InsufficientData:
        pass
    order = np.lexsort((b["customer_id"].to_numpy(), -margin))
    bounds = [math.ceil((k + 1) * len(margin) / 4) - 1 for k in range(4)]
    floors = np.asarray([margin[order][i] for i in bounds])
    reached = margin[:, None] >= floors[None, :]
    tiers = np.where(reached.any(axis=1), reached.argmax(axis=1), 3)
    codes = np.full(len(frame), None, dtype=object)
    codes[buyer] = np.asarray([f"V{t + 1}" for t in range(4)], dtype=object)[tiers]
    scores = np.full(len(frame), np.nan)
    scores[buyer] = pd.Series(margin).rank(pct=True).to_numpy()
    values_all = np.full(len(frame), np.nan)
    values_all[buyer] = margin
    reasons = np.full(len(frame), f"no purchases on or before {as_of}", dtype=object)
    reasons[buyer] = [
        f"{TIERS[t]} tier; this customer's margin is {v:,.2f}"
        for t, v in zip(tiers.tolist(), margin.tolist(), strict=True)
    ]
    rows = _rows(2, frame["customer_id"], codes, scores, values_all, reasons)
    computed = time.perf_counter()
    store.clear()
    write = store.write(rows)
    return BareResult(
        "ValueBased",
        time.perf_counter() - started,
        read - started,
        computed - read,
        write,
        len(frame),
        int(buyer.sum()),
    )


def needs_based(store: BareStore, seed: int = 0) -> BareResult:
    """k-means on standardised need scores; k in 2..10 by silhouette on a 5,000 sample."""
    started = time.perf_counter()
    answers = pd.DataFrame(
        store.fetch("SELECT customer_id, need, score FROM need_responses"),
        columns=["customer_id", "need", "score"],
    )
    ids = pd.DataFrame(store.fetch("SELECT customer_id FROM customers"), columns=["customer_id"])
    read = time.perf_counter()
    wide = answers.set_index(["customer_id", "need"])["score"].astype(float).unstack("need")
    wide = wide.reindex(index=ids["customer_id"], columns=sorted(wide.columns))
    data = wide.to_numpy(float)
    answered = (~np.isnan(data)).sum(axis=1)
    eligible = answered >= max(1, math.ceil(0.5 * data.shape[1]))
    respondents = data[eligible]
    means = np.nanmean(respondents, axis=0)
    filled = np.where(np.isnan(respondents), means[None, :], respondents)
    space = StandardScaler().fit_transform(filled)
    rng = np.random.default_rng(seed)
    sample = space[rng.choice(len(space), size=min(SAMPLE, len(space)), replace=False)]
    # In the same chunks as the service's silhouettes (engines.clustering).
    with threadpool_limits(1), sklearn.config_context(working_memory=SILHOUETTE_WORKING_MB):
        best_k = max(
            K_RANGE,
            key=lambda k: silhouette_score(
                sample, KMeans(k, n_init=N_INIT, random_state=seed).fit(sample).labels_
            ),
        )
    with threadpool_limits(1) if len(space) < PARALLEL_MIN_ROWS else contextlib.nullcontext():
        kmeans = KMeans(best_k, n_init=N_INIT, random_state=seed).fit(space)
    labels = kmeans.labels_
    distances = np.linalg.norm(space - kmeans.cluster_centers_[labels], axis=1)
    calinski_harabasz_score(space, labels)
    order = np.argsort(-np.bincount(labels, minlength=best_k), kind="stable")
    rank = np.empty(best_k, dtype=int)
    rank[order] = np.arange(best_k)
    needs = list(wide.columns)
    centres = kmeans.cluster_centers_
    drivers = [
        " & ".join(needs[i].capitalize() for i in np.argsort(-centres[c])[:2])
        for c in range(best_k)
    ]
    codes = np.full(len(data), None, dtype=object)
    codes[eligible] = np.asarray([f"N{rank[c] + 1}" for c in range(best_k)], dtype=object)[labels]
    scores = np.full(len(data), np.nan)
    scores[eligible] = distances
    reasons = np.full(len(data), "answered too few needs", dtype=object)
    reasons[eligible] = [
        f"{drivers[c]}; distance to the segment centre {d:.2f} in standard deviations"
        for c, d in zip(labels.tolist(), distances.tolist(), strict=True)
    ]
    rows = _rows(3, wide.index, codes, scores, np.full(len(data), np.nan), reasons)
    computed = time.perf_counter()
    store.clear()
    write = store.write(rows)
    return BareResult(
        "NeedsBased",
        time.perf_counter() - started,
        read - started,
        computed - read,
        write,
        len(data),
        int(eligible.sum()),
    )


def run_bare(store: BareStore, method: str, as_of: date) -> BareResult:
    if method == "APriori":
        return a_priori(store)
    if method == "ValueBased":
        return value_based(store, as_of)
    return needs_based(store)
