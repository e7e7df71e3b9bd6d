"""Small vectorised helpers shared by the demo data generators."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]

_EPOCH = datetime.date(1970, 1, 1)
SECONDS_PER_DAY = 86_400

# Unicode code points of "0000" .. "9999": ids are assembled as fixed-width strings in bulk.
_FOUR_DIGIT_CODE_POINTS = np.array(
    [[ord(digit) for digit in f"{number:04d}"] for number in range(10_000)], dtype=np.uint32
)


def choose(rng: np.random.Generator, shares: Sequence[float], size: int) -> IntArray:
    """Draw ``size`` indices into ``shares``, with probabilities proportional to the shares."""
    probabilities = np.asarray(shares, dtype=np.float64)
    return rng.choice(len(probabilities), size=size, p=probabilities / probabilities.sum())


def choose_per_group(
    rng: np.random.Generator, shares_by_group: Sequence[Sequence[float]], group: IntArray
) -> IntArray:
    """Draw one index per element, using the share row of the element's group."""
    table = np.asarray(shares_by_group, dtype=np.float64)
    cumulative = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    cumulative[:, -1] = 1.0  # not 0.9999...: every draw in [0, 1) must find a bucket
    draws = rng.random(len(group))
    chosen = np.empty(len(group), dtype=np.int64)
    for index, group_cumulative in enumerate(cumulative):
        members = group == index
        chosen[members] = np.searchsorted(group_cumulative, draws[members], side="right")
    return chosen


def pick(vocabulary: Sequence[str], indices: IntArray) -> ObjectArray:
    """Map indices to strings; equal strings share one object, which keeps memory low."""
    return np.asarray(vocabulary, dtype=object)[indices]


def text(values: ObjectArray) -> pd.api.extensions.ExtensionArray:
    """A pandas string array; missing values (None) become NaN, even if all are missing."""
    return pd.array(values, dtype="str")


def format_ids(prefix: str, numbers: IntArray, digits: int) -> ObjectArray:
    """Format non-negative integers as ``prefix`` plus zero-padded digits, e.g. ``C0000042``."""
    width = len(prefix) + digits
    # A "U<width>" array is a row-major block of UCS-4 code points, one row per string.
    code_points = np.empty((len(numbers), width), dtype=np.uint32)
    code_points[:, : len(prefix)] = [ord(character) for character in prefix]
    remaining = numbers.astype(np.int64)
    end = width
    while end > len(prefix):
        start = max(len(prefix), end - 4)
        chunk = _FOUR_DIGIT_CODE_POINTS[remaining % 10_000]
        code_points[:, start:end] = chunk[:, 4 - (end - start) :]
        remaining //= 10_000
        end = start
    return code_points.view(f"U{width}").ravel().astype(object)


def day_number(day: datetime.date) -> int:
    """Days since 1970-01-01."""
    return (day - _EPOCH).days


def days_to_datetimes(days: IntArray) -> npt.NDArray[np.datetime64]:
    """Day numbers to midnight timestamps with second resolution."""
    return (days * SECONDS_PER_DAY).astype("datetime64[s]")


def seconds_to_datetimes(seconds: IntArray) -> npt.NDArray[np.datetime64]:
    """Seconds since the epoch to timestamps with second resolution."""
    return seconds.astype("datetime64[s]")
