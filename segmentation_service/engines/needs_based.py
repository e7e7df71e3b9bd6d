"""Needs-based segmentation: k-means on standardised (optionally centred) survey scores."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from segmentation_service.domain.errors import InsufficientData
from segmentation_service.engines.base import FittedSegmentation
from segmentation_service.engines.clustering import (
    SEED_BOUND,
    Labels,
    Matrix,
    SegmentDescription,
    answered_means,
    bootstrap_stability,
    calinski_harabasz,
    check_parameters,
    choose_k,
    column_means,
    describe_segments,
    distance_reasons,
    fit_kmeans,
    group_means,
    impute,
    silhouette,
    thread_limit,
)

AUTO_K_RANGE = (2, 10)


@dataclass(frozen=True)
class Placement:
    """Where a fitted segmenter puts the rows of a needs matrix (``NeedsBasedSegmenter.place``).

    ``answered`` and ``eligible`` have a row per customer; the other arrays a row per
    eligible customer: answers with imputed gaps (``raw``), standardised needs
    (``scaled``), clustering space (``space``), k-means cluster and distance to its centre.
    """

    answered: npt.NDArray[np.intp]
    eligible: npt.NDArray[np.bool_]
    raw: Matrix
    scaled: Matrix
    space: Matrix
    clusters: Labels
    distances: Matrix


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

    1. Eligibility: a customer who answered fewer than
       ``max(1, ceil(min_answered_share × number of needs))`` needs stays
       unassigned (label None, score NaN); the reason says how many needs
       they answered and how many are required.
    2. Preprocessing of the eligible respondents: with ``centre_respondents``
       each respondent's mean over the needs they answered is subtracted from
       their answers (removing scale-use bias). The remaining unanswered needs
       are imputed with the need's mean over the eligible respondents (on the
       centred scale when centring). Each need is then standardised.
    3. With ``pca_components``, the standardised needs are projected on that
       many principal components (not whitened) and clustering happens there.
    4. k-means with ``n_init`` initialisations. When ``n_segments`` is None,
       k in 2..10 is the one with the best silhouette on a random sample of at
       most ``sample_size`` eligible respondents, each candidate fitted on the
       sample with ``n_init`` initialisations; the final model is fitted on all
       eligible respondents (when they outnumber the sample, the ``n_init``
       initialisations compete on the sample and the best centres seed one
       fit on all of them).
    5. Stability: the mean adjusted Rand index, on that sample, between the
       final model's labels and those predicted by ``stability_resamples``
       k-means refits (same k, preprocessing and ``n_init``), each fitted on a
       bootstrap resample of the sample.

    Segments are coded N1..Nk by decreasing size. A segment's profile holds,
    per need, its members' mean raw score (an unanswered need counts at its
    imputed value, plus the respondent's own mean when centring) and z-score
    (the members' mean of the standardised needs: relative to all eligible
    respondents). It is named after its one or two highest z-scores (only
    positive ones, unless none is), e.g. "Price & Speed", described as
    "Customers driven by price and speed". A customer's score is the
    Euclidean distance to their segment centre in the clustering space, in
    standard deviations, quoted in their reason after the drivers' mean raw
    scores. ``predict`` preprocesses new respondents as in ``fit`` (centring on
    their own answers, the learnt imputation means, scaler and PCA). A given
    ``random_state`` makes labels, metrics and profiles reproducible.

    ``place`` and ``assign`` apply the fitted model, eligibility included, to
    other rows: a partitioned run fits on a sample and assigns partition by
    partition (``needs_partitions``); ``check_counts`` raises fit's errors from counts.

    Parameters
    ----------
    n_segments : int or None, default=None
        Number of segments k; None chooses k by silhouette.
    min_answered_share : float, default=0.5
        Share of the needs (0 to 1) a customer must have answered to be segmented.
    centre_respondents : bool, default=False
        Subtract each respondent's own mean answer before imputing and scaling.
    pca_components : int or None, default=None
        Cluster on this many principal components (at most the number of needs).
    sample_size : int, default=5000
        Rows of the random sample used to choose k, for the silhouette and for
        stability; more than ``n_segments`` when that is given.
    n_init : int, default=10
        k-means initialisations of every fit.
    stability_resamples : int, default=10
        Bootstrap refits behind ``needs.stability``; 0 skips the metric.
    random_state : int or None, default=None
        Seeds the sample, k-means and the bootstrap.

    Attributes
    ----------
    labels_, scores_, reasons_, segments_ : see ``FittedSegmentation``.
    metrics_ : dict of str to float
        ``needs.k``, ``needs.silhouette`` (on the sample), ``needs.calinskiHarabasz``
        (all eligible respondents), ``needs.stability`` (unless skipped),
        ``needs.respondents`` (eligible), ``needs.needs``, ``needs.imputedAnswers``
        (unanswered needs of eligible respondents), ``needs.centred`` (1 or 0)
        and, with PCA, ``needs.pcaExplainedVariance``
        (cumulative explained variance ratio of the kept components).
    needs_ : list of str
    cluster_codes_ : ndarray of str, per k-means cluster
    drivers_ : list of str, per k-means cluster ("segment N1 is driven by ...")
    imputation_means_ : ndarray, per need
    scaler_ : StandardScaler
    pca_ : PCA or None
    kmeans_ : KMeans
    """

    def __init__(
        self,
        n_segments: int | None = None,
        min_answered_share: float = 0.5,
        centre_respondents: bool = False,
        pca_components: int | None = None,
        sample_size: int = 5000,
        n_init: int = 10,
        stability_resamples: int = 10,
        random_state: int | None = None,
    ) -> None:
        self.n_segments = n_segments
        self.min_answered_share = min_answered_share
        self.centre_respondents = centre_respondents
        self.pca_components = pca_components
        self.sample_size = sample_size
        self.n_init = n_init
        self.stability_resamples = stability_resamples
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: None = None) -> NeedsBasedSegmenter:
        data = self._validate_for_fit(X)
        answered = (~np.isnan(data)).sum(axis=1)
        eligible = answered >= self.required_answers(len(self.needs_))
        self._check_eligible(int(eligible.sum()), len(self.needs_))
        respondents = data[eligible]
        raw, scaled, space = self._preprocess(respondents, fit=True)
        rng = np.random.default_rng(self.random_state)
        sample = rng.choice(len(space), size=min(self.sample_size, len(space)), replace=False)
        clusters = self._cluster(space, sample, rng)
        k = int(self.kmeans_.n_clusters)
        distances = np.linalg.norm(space - self.kmeans_.cluster_centers_[clusters], axis=1)
        self.cluster_codes_, self.segments_, self.drivers_ = describe_segments(
            self.needs_,
            group_means(raw, clusters, k),
            group_means(scaled, clusters, k),
            np.bincount(clusters, minlength=k),
        )
        placement = Placement(answered, eligible, raw, scaled, space, clusters, distances)
        self.labels_, self.scores_, self.reasons_ = self._rows(placement, self.description())
        with thread_limit(len(sample)):
            silhouette_on_sample = silhouette(space[sample], clusters[sample])
            stability = self._stability(space[sample], clusters[sample], k, rng)
        self.metrics_ = {
            "needs.k": float(k),
            "needs.silhouette": silhouette_on_sample,
            "needs.calinskiHarabasz": calinski_harabasz(space, clusters),
            **stability,
            "needs.respondents": float(len(respondents)),
            "needs.needs": float(len(self.needs_)),
            "needs.imputedAnswers": float(np.isnan(respondents).sum()),
            "needs.centred": float(bool(self.centre_respondents)),
        }
        if self.pca_ is not None:
            explained = float(np.sum(self.pca_.explained_variance_ratio_))
            self.metrics_["needs.pcaExplainedVariance"] = (
                explained if math.isfinite(explained) else 0.0  # NaN when every need is constant
            )
        return self

    def predict(self, X: pd.DataFrame) -> npt.NDArray[np.object_]:
        """Segment codes of new respondents (all treated as eligible), preprocessed as in fit."""
        check_is_fitted(self)
        data = self._validate_for_predict(X)
        with thread_limit(len(data)):
            clusters = self.kmeans_.predict(self._preprocess(data)[2])
        return np.asarray(self.cluster_codes_[clusters], dtype=object)

    def place(self, X: pd.DataFrame) -> Placement:
        """Eligibility, preprocessing, k-means cluster and distance of each row of ``X``.

        As ``fit`` computes them for its own rows, with the learnt imputation means,
        scaler, PCA and centres (the cluster is k-means' ``predict``). ``X`` may be empty.
        """
        check_is_fitted(self)
        if isinstance(X, pd.DataFrame) and len(X) == 0:
            data: Matrix = np.empty((0, len(self.needs_)))
        else:
            data = self._validate_for_predict(X)
        answered = (~np.isnan(data)).sum(axis=1)
        eligible = answered >= self.required_answers(len(self.needs_))
        if not eligible.any():  # the scaler and k-means refuse no rows
            needs, dims = np.empty((0, len(self.needs_))), self.kmeans_.cluster_centers_.shape[1]
            clusters = np.empty(0, dtype=np.intp)
            return Placement(
                answered, eligible, needs, needs, np.empty((0, dims)), clusters, np.empty(0)
            )
        raw, scaled, space = self._preprocess(data[eligible])
        with thread_limit(len(space)):
            clusters = self.kmeans_.predict(space)
        distances = np.linalg.norm(space - self.kmeans_.cluster_centers_[clusters], axis=1)
        return Placement(answered, eligible, raw, scaled, space, clusters, distances)

    def assign(
        self, X: pd.DataFrame, description: SegmentDescription | None = None
    ) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64], npt.NDArray[np.object_]]:
        """Label, score and reason of each row of ``X``, as ``fit`` gives them for its rows.

        Eligibility applies (an unassigned row gets label None, score NaN and the
        answered-needs reason). ``description`` replaces the codes and drivers learnt
        in fit: a partitioned run describes its segments over every partition.
        """
        return self._rows(self.place(X), description or self.description())

    def description(self) -> SegmentDescription:
        """The segment codes and drivers per k-means cluster and the definitions, from fit."""
        check_is_fitted(self)
        return SegmentDescription(self.cluster_codes_, self.segments_, self.drivers_)

    def required_answers(self, n_needs: int) -> int:
        """Needs a customer must have answered, out of ``n_needs``, to be segmented."""
        return max(1, math.ceil(self.min_answered_share * n_needs))

    def check_counts(self, n_customers: int, n_needs: int, n_eligible: int) -> None:
        """Raise what ``fit`` raises on ``n_customers`` rows of ``n_needs`` needs, ``n_eligible``
        of them eligible (ValueError for a parameter, else InsufficientData), in fit's order.

        A partitioned run checks its merged counts with it before fitting on a sample.
        """
        check_parameters(self.get_params())
        self._check_shape(n_customers, n_needs)
        self._check_needs(n_needs)
        self._check_eligible(n_eligible, n_needs)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # an unanswered need
        return tags

    def _validate_for_fit(self, X: pd.DataFrame) -> Matrix:
        """The float matrix of ``X`` after checking the parameters against it; sets needs_."""
        check_parameters(self.get_params())
        if isinstance(X, pd.DataFrame):  # before validate_data refuses it
            self._check_shape(len(X), X.shape[1])
        data: Matrix = validate_data(
            self, X, dtype=np.float64, ensure_all_finite="allow-nan", ensure_min_samples=2
        )
        names = getattr(self, "feature_names_in_", None)
        self.needs_ = [f"x{i}" for i in range(data.shape[1])] if names is None else list(names)
        self._check_needs(len(self.needs_))
        return data

    def _validate_for_predict(self, X: pd.DataFrame) -> Matrix:
        """The float matrix of ``X``'s need columns, in fit's order."""
        if isinstance(X, pd.DataFrame) and hasattr(self, "feature_names_in_"):
            missing = [need for need in self.needs_ if need not in X.columns]
            if missing:
                raise ValueError(f"X lacks the need columns {missing}")
            X = X[self.needs_]
        data: Matrix = validate_data(
            self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan"
        )
        return data

    def _check_shape(self, n_customers: int, n_needs: int) -> None:
        if n_needs == 0:
            raise InsufficientData("no needs were answered: nobody has answered the needs survey")
        if n_customers < 2:
            self._check_enough_respondents(n_customers, "customers to segment")

    def _check_needs(self, n_needs: int) -> None:
        if self.pca_components is not None and self.pca_components > n_needs:
            raise InsufficientData(
                f"pca_components={self.pca_components} exceeds the number of needs "
                f"(n_features={n_needs}): ask for at most {n_needs}"
            )
        if self.centre_respondents and n_needs < 2:
            raise InsufficientData(
                "centre_respondents needs at least 2 needs (n_features=1): centring one leaves 0"
            )

    def _check_eligible(self, n_eligible: int, n_needs: int) -> None:
        required = self.required_answers(n_needs)
        who = f"customers answered at least {required} of {n_needs} needs"
        self._check_enough_respondents(n_eligible, who)

    def _check_enough_respondents(self, n_eligible: int, who: str) -> None:
        """InsufficientData unless ``n_eligible`` (described by ``who``) can form the segments."""
        smallest_k = self.n_segments or AUTO_K_RANGE[0]
        if n_eligible <= smallest_k:
            raise InsufficientData(
                f"{n_eligible} {who}; more than {smallest_k} are needed to form "
                f"{smallest_k} segments"
            )
        if self.pca_components is not None and n_eligible < self.pca_components:
            raise InsufficientData(
                f"{n_eligible} {who}; {self.pca_components} principal components need at "
                f"least {self.pca_components}"
            )

    def _rows(
        self, placement: Placement, description: SegmentDescription
    ) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64], npt.NDArray[np.object_]]:
        """Labels, scores and reasons of the placed rows (None, NaN and why when unassigned)."""
        n_needs, eligible = len(self.needs_), placement.eligible
        labels = np.full(len(eligible), None, dtype=object)
        labels[eligible] = description.codes[placement.clusters]
        scores = np.full(len(eligible), np.nan)
        scores[eligible] = placement.distances
        required = self.required_answers(n_needs)
        unassigned = [
            f"answered {count} of {n_needs} needs; at least {required} are required"
            for count in range(n_needs + 1)
        ]
        reasons: npt.NDArray[np.object_] = np.array(unassigned, dtype=object)[placement.answered]
        reasons[eligible] = distance_reasons(
            description.drivers, placement.clusters, placement.distances
        )
        return labels, scores, reasons

    def _cluster(self, space: Matrix, sample: Labels, rng: np.random.Generator) -> Labels:
        """Fit kmeans_ on every row of ``space``, choosing k on the sample rows when not given."""
        k_seed, kmeans_seed = (int(seed) for seed in rng.integers(SEED_BOUND, size=2))
        k = self.n_segments
        if k is None:
            with thread_limit(len(sample)):
                k = choose_k(space[sample], AUTO_K_RANGE, self.n_init, k_seed)
        with thread_limit(len(space)):
            self.kmeans_ = fit_kmeans(space, k, self.n_init, kmeans_seed, sample)
        clusters: Labels = self.kmeans_.labels_
        return clusters

    def _stability(
        self, sample: Matrix, clusters: Labels, k: int, rng: np.random.Generator
    ) -> dict[str, float]:
        """``needs.stability`` over the sample, or nothing when stability_resamples is 0."""
        if self.stability_resamples == 0:
            return {}
        resamples = self.stability_resamples
        return {
            "needs.stability": bootstrap_stability(sample, clusters, k, self.n_init, resamples, rng)
        }

    def _preprocess(self, data: Matrix, fit: bool = False) -> tuple[Matrix, Matrix, Matrix]:
        """Raw answers with imputed gaps, standardised needs and clustering space of ``data``.

        In ``fit``, each step (imputation means, scaler, PCA) is learnt before it is applied.
        """
        offsets = answered_means(data) if self.centre_respondents else np.zeros(len(data))
        centred = data - offsets[:, None]
        if fit:
            self.imputation_means_ = column_means(centred)
        filled = impute(centred, self.imputation_means_)
        if fit:
            self.scaler_ = StandardScaler().fit(filled)
        scaled: Matrix = self.scaler_.transform(filled)
        if fit:
            components = self.pca_components
            self.pca_ = (
                None
                if components is None
                else PCA(components, random_state=self.random_state).fit(scaled)
            )
        space: Matrix = scaled if self.pca_ is None else self.pca_.transform(scaled)
        filled += offsets[:, None]
        return filled, scaled, space
