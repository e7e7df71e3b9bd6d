"""Needs-based segmentation: k-means on standardised survey scores."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, silhouette_score
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from segmentation_service.domain.model import SegmentDefinition
from segmentation_service.engines.base import FittedSegmentation

AUTO_K_RANGE = (2, 10)


def needs_matrix(responses: pd.DataFrame, customer_ids: pd.Index) -> pd.DataFrame:
    """Customer × need scores from long-format answers; NaN where a need was not answered."""
    if responses.empty:
        return pd.DataFrame(index=customer_ids)
    wide = responses.set_index(["customer_id", "need"])["score"].astype(float).unstack("need")
    return wide.reindex(index=customer_ids, columns=sorted(wide.columns))


class NeedsBasedSegmenter(FittedSegmentation, ClusterMixin, BaseEstimator):
    """Cluster customers on their stated needs.

    ``X`` is a customer × need matrix (``needs_matrix``), NaN where a need
    was not answered; a numeric array works too, its columns named x0, x1...
    Customers who answered fewer than ``min_answered_share`` of the needs
    stay unassigned; the other missing answers are imputed with the need's
    mean over the assigned respondents. Scores are standardised per need and
    clustered with k-means. When ``n_segments`` is None, k (2..10) is the one
    with the best silhouette on a random sample of at most ``sample_size``
    rows.

    Parameters
    ----------
    n_segments : int or None, default=None
    min_answered_share : float, default=0.5
    sample_size : int, default=5000
    n_init : int, default=10
    random_state : int or None, default=None
    """

    def __init__(
        self,
        n_segments: int | None = None,
        min_answered_share: float = 0.5,
        sample_size: int = 5000,
        n_init: int = 10,
        random_state: int | None = None,
    ) -> None:
        self.n_segments = n_segments
        self.min_answered_share = min_answered_share
        self.sample_size = sample_size
        self.n_init = n_init
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: None = None) -> NeedsBasedSegmenter:
        if isinstance(X, pd.DataFrame) and X.shape[1] == 0:
            raise ValueError("no needs were answered: X has no need columns")
        data = validate_data(
            self, X, dtype=np.float64, ensure_all_finite="allow-nan", ensure_min_samples=2
        )
        names = getattr(self, "feature_names_in_", None)
        needs = [f"x{i}" for i in range(data.shape[1])] if names is None else list(names)
        answered = (~np.isnan(data)).sum(axis=1)
        required = max(1, int(np.ceil(self.min_answered_share * len(needs))))
        eligible = answered >= required
        n_eligible = int(eligible.sum())
        smallest_k = self.n_segments or AUTO_K_RANGE[0]
        if n_eligible <= smallest_k:
            raise ValueError(
                f"{n_eligible} customers answered at least {required} of {len(needs)} needs; "
                f"more than {smallest_k} are needed to form {smallest_k} segments"
            )
        self.needs_ = needs
        self.imputation_means_ = _column_means(data[eligible])
        respondents = self._impute(data[eligible])
        self.scaler_ = StandardScaler().fit(respondents)
        scaled = self.scaler_.transform(respondents)
        rng = np.random.default_rng(self.random_state)
        sample = rng.choice(n_eligible, size=min(self.sample_size, n_eligible), replace=False)
        k = self.n_segments or self._choose_k(scaled[sample])
        self.kmeans_ = KMeans(k, n_init=self.n_init, random_state=self.random_state).fit(scaled)
        clusters = self.kmeans_.labels_
        distances = np.linalg.norm(scaled - self.kmeans_.cluster_centers_[clusters], axis=1)
        self._name_segments(clusters)

        self.labels_ = np.full(len(data), None, dtype=object)
        self.labels_[eligible] = self.cluster_codes_[clusters]
        self.scores_ = np.full(len(data), np.nan)
        self.scores_[eligible] = distances
        self.reasons_ = np.array(
            [
                f"answered {count} of {len(needs)} needs; at least {required} are required"
                for count in answered
            ],
            dtype=object,
        )
        self.reasons_[eligible] = [
            f"{self._drivers[cluster]}; distance to the segment centre {distance:.2f} "
            "in standard deviations"
            for cluster, distance in zip(clusters, distances, strict=True)
        ]
        sample_labels = clusters[sample]
        self.metrics_ = {
            "needs.k": float(k),
            "needs.silhouette": _silhouette(scaled[sample], sample_labels),
            "needs.calinskiHarabasz": float(calinski_harabasz_score(scaled, clusters)),
            "needs.respondents": float(n_eligible),
            "needs.needs": float(len(needs)),
        }
        return self

    def predict(self, X: pd.DataFrame) -> npt.NDArray[np.object_]:
        """Segment codes of new respondents (all treated as eligible)."""
        check_is_fitted(self)
        if isinstance(X, pd.DataFrame) and hasattr(self, "feature_names_in_"):
            missing = [need for need in self.needs_ if need not in X.columns]
            if missing:
                raise ValueError(f"X lacks the need columns {missing}")
            X = X[self.needs_]
        data = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan")
        scaled = self.scaler_.transform(self._impute(data))
        return np.asarray(self.cluster_codes_[self.kmeans_.predict(scaled)], dtype=object)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # an unanswered need
        return tags

    def _impute(self, data: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        data = data.copy()
        missing = np.isnan(data)
        data[missing] = np.take(self.imputation_means_, np.nonzero(missing)[1])
        return data

    def _choose_k(self, sample: npt.NDArray[np.float64]) -> int:
        """The k (within AUTO_K_RANGE) with the best silhouette on the sample."""
        best_k, best_score = AUTO_K_RANGE[0], -np.inf
        for k in range(AUTO_K_RANGE[0], min(AUTO_K_RANGE[1], len(sample) - 1) + 1):
            labels = KMeans(k, n_init=3, random_state=self.random_state).fit_predict(sample)
            score = _silhouette(sample, labels)
            if score > best_score:
                best_k, best_score = k, score
        return best_k

    def _name_segments(self, clusters: npt.NDArray[np.intp]) -> None:
        """Codes N1..Nk by size; names from each centre's one or two strongest needs."""
        order = np.argsort(-np.bincount(clusters, minlength=self.kmeans_.n_clusters), kind="stable")
        self.cluster_codes_ = np.empty(len(order), dtype=object)
        centres_z = self.kmeans_.cluster_centers_
        centres_raw = self.scaler_.inverse_transform(centres_z)
        self.segments_, self._drivers = [], {}
        used_names: set[str] = set()
        for rank, cluster in enumerate(order, start=1):
            code = f"N{rank}"
            self.cluster_codes_[cluster] = code
            top = np.argsort(-centres_z[cluster], kind="stable")[:2]
            dominant = [self.needs_[i] for i in top if centres_z[cluster][i] > 0] or [
                self.needs_[top[0]]
            ]
            name = " & ".join(need.capitalize() for need in dominant)
            while name in used_names:
                name += " (alt)"
            used_names.add(name)
            drivers = " and ".join(
                f"{self.needs_[i]} ({centres_raw[cluster][i]:.1f})" for i in top[: len(dominant)]
            )
            self._drivers[cluster] = f"segment {code} is driven by {drivers}"
            profile: list[tuple[str, str]] = []
            for i, need in enumerate(self.needs_):
                profile.append((need, f"{centres_raw[cluster][i]:.2f}"))
                profile.append((f"{need}.zScore", f"{centres_z[cluster][i]:+.2f}"))
            self.segments_.append(
                SegmentDefinition(
                    code=code,
                    name=name,
                    description=f"Customers driven by {' and '.join(dominant)}",
                    profile=tuple(profile),
                )
            )


def _column_means(data: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each column's mean over its answers; 0 for a need nobody eligible answered."""
    answered = ~np.isnan(data)
    counts = answered.sum(axis=0)
    totals = np.where(answered, data, 0.0).sum(axis=0)
    means: npt.NDArray[np.float64] = np.divide(
        totals, counts, out=np.zeros(data.shape[1]), where=counts > 0
    )
    return means


def _silhouette(data: npt.NDArray[np.float64], labels: npt.NDArray[np.intp]) -> float:
    if len(np.unique(labels)) < 2 or len(np.unique(labels)) >= len(data):
        return 0.0
    return float(silhouette_score(data, labels))
