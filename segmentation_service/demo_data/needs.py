"""Synthetic needs survey answers with a planted segment structure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation_service.domain.formats import NEED_COLUMNS

from .customers import CustomerDraw
from .sampling import days_to_datetimes, pick, text
from .vocabulary import ARCHETYPES, NEEDS

_RESPONSE_SHARE = 0.8
_ANSWER_NOISE_SD = 0.8
# Scale-use bias: a fifth of respondents rate everything higher, a fifth lower.
_BIASED_SHARE = 0.4
_BIAS_RANGE = (0.5, 1.0)
_PARTIAL_SHARE = 0.10
_MAX_SKIPPED = 3
_SURVEY_WINDOW_DAYS = 365


def draw_needs(
    rng: np.random.Generator, customers: CustomerDraw, end_day: int
) -> tuple[pd.DataFrame, pd.Series]:
    """Draw survey answers in long format and each respondent's planted archetype."""
    respondent = np.flatnonzero(rng.random(len(customers.is_b2b)) < _RESPONSE_SHARE)
    n, n_needs = len(respondent), len(NEEDS)
    archetype = customers.archetype[respondent]

    profiles = np.array([a.profile for a in ARCHETYPES])
    bias = np.where(
        rng.random(n) < _BIASED_SHARE,
        rng.choice([-1.0, 1.0], n) * rng.uniform(*_BIAS_RANGE, n),
        rng.normal(0.0, 0.2, n),
    )
    latent = profiles[archetype] + bias[:, None] + rng.normal(0.0, _ANSWER_NOISE_SD, (n, n_needs))
    score = np.clip(np.rint(latent), 1, 7).astype(np.int64)

    # Partial respondents skip the needs holding their lowest random keys.
    answered = np.ones((n, n_needs), dtype=bool)
    partial = np.flatnonzero(rng.random(n) < _PARTIAL_SHARE)
    skipped = rng.integers(1, _MAX_SKIPPED + 1, len(partial))
    rank = np.argsort(np.argsort(rng.random((len(partial), n_needs)), axis=1), axis=1)
    answered[partial] = rank >= skipped[:, None]

    # One survey date per respondent, within the last year and not before signup.
    signup_day = customers.signup_day[respondent]
    span = np.minimum(_SURVEY_WINDOW_DAYS, end_day - signup_day + 1)
    surveyed_day = end_day - (rng.random(n) * span).astype(np.int64)

    answered_flat = answered.ravel()
    rows = np.repeat(np.arange(n), n_needs)[answered_flat]
    need_index = np.tile(np.arange(n_needs), n)[answered_flat]
    answers = pd.DataFrame(
        {
            "customer_id": text(customers.customer_ids[respondent][rows]),
            "need": text(pick(NEEDS, need_index)),
            "score": score.ravel()[answered_flat],
            "surveyed_at": days_to_datetimes(surveyed_day[rows]),
        },
        columns=list(NEED_COLUMNS),
    )
    truth = pd.Series(
        archetype,
        index=pd.Index(text(customers.customer_ids[respondent]), name="customer_id"),
        name="needs_segment",
    )
    return answers, truth
