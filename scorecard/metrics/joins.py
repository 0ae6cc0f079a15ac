"""Vectorized lookups the metrics' joins are built from: ids, keys and as-of matches.

Joining millions of events on text ids or names with pandas' own tools builds
millions of Python strings and hash tables; these helpers work on integer codes,
64-bit hashes and int64 microseconds instead, and keep temporaries small. They
answer positions ("which row matches"), never frames, so each caller decides
what to take from the match. Pure: no I/O.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["Ids", "asof_matches", "asof_positions", "id_hashes", "key_codes", "micros"]


class Ids:
    """Deployment ids, hashed once, for every lookup by id.

    Ids are matched by 64-bit hashes in sorted arrays (no hash table of 1M
    Python objects), every hit is confirmed by comparing the ids themselves,
    and what a hash cannot settle falls back to a pandas index.
    """

    def __init__(self, ids: pd.Series) -> None:
        self.values = ids.to_numpy(dtype=object)
        self.hashes = id_hashes(self.values)
        self._index: pd.Index | None = None

    @property
    def index(self) -> pd.Index:
        if self._index is None:
            self._index = pd.Index(self.values)
        return self._index

    def last(self, wanted: pd.Series, among: np.ndarray | None = None) -> np.ndarray:
        """Per ``wanted`` id, the row of its last occurrence (among the ``among`` rows).

        -1 where the id is empty or not there. One lookup per non-empty wanted
        id, nothing built per row.
        """
        out = np.full(len(wanted), -1, dtype=np.int64)
        asked = wanted.notna().to_numpy()
        if not asked.any() or len(self.values) == 0:
            return out
        values = wanted.to_numpy(dtype=object)[asked]
        rows = np.arange(len(self.values)) if among is None else np.flatnonzero(among)
        if len(rows) == 0:
            return out
        wanted_hashes = id_hashes(values) if self.hashes is not None else None
        if self.hashes is None or wanted_hashes is None:
            out[asked] = self._last_by_index(values, rows)
            return out
        # Stable sort: among equal hashes the last one is the last occurrence.
        order = np.argsort(self.hashes[rows], kind="stable")
        ranked = self.hashes[rows][order]
        pos = np.searchsorted(ranked, wanted_hashes, side="right") - 1
        hit = pos >= 0
        hit[hit] = ranked[pos[hit]] == wanted_hashes[hit]
        found = np.full(len(values), -1, dtype=np.int64)
        found[hit] = rows[order[pos[hit]]]
        same = np.asarray(self.values[found[hit]] == values[hit], dtype=bool)
        if not same.all():  # two ids with one hash: settle those by the ids themselves
            unsure = np.flatnonzero(hit)[~same]
            found[unsure] = self._last_by_index(values[unsure], rows)
        out[asked] = found
        return out

    def _last_by_index(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        index = self.index[rows]
        keep = ~index.duplicated(keep="last")
        hit = index[keep].get_indexer(pd.Index(values, dtype=object))
        return np.where(hit >= 0, rows[keep][np.maximum(hit, 0)], -1)


def id_hashes(values: np.ndarray, chunk: int = 1 << 16) -> np.ndarray | None:
    """64-bit hashes of ids (None when some cannot be hashed as text).

    A slice at a time: hashing encodes every id, and 1M encoded copies at
    once would outlive the call as fragmented interpreter memory.
    """
    out = np.empty(len(values), dtype=np.uint64)
    try:
        for low in range(0, len(values), chunk):
            part = values[low : low + chunk]
            out[low : low + chunk] = pd.util.hash_array(part, categorize=False)
    except Exception:  # text that cannot be encoded: compared as objects
        return None
    return out


def key_codes(left: pd.Series, right: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes for two key columns in one shared space (-1: empty or absent on the right).

    Joining on these instead of the labels saves building millions of Python
    strings; categorical columns need only their (few) categories matched.
    """
    if isinstance(left.dtype, pd.CategoricalDtype) and isinstance(right.dtype, pd.CategoricalDtype):
        left_codes = left.cat.codes.to_numpy().astype(np.int64)
        right_codes = right.cat.codes.to_numpy().astype(np.int64)
        if left.cat.categories.equals(right.cat.categories):
            return left_codes, right_codes
        remap = right.cat.categories.get_indexer(left.cat.categories.astype(object))
        return np.append(remap, -1).astype(np.int64)[left_codes], right_codes
    both = pd.concat([left.astype(object), right.astype(object)], ignore_index=True)
    codes, _ = pd.factorize(both)
    return codes[: len(left)].astype(np.int64), codes[len(left) :].astype(np.int64)


def micros(values: pd.Series) -> np.ndarray:
    """Timestamps as int64 microseconds since the epoch (NaT as int64's minimum)."""
    return np.asarray(pd.DatetimeIndex(values).as_unit("us").asi8)


def asof_positions(
    left_key: np.ndarray,
    left_t: np.ndarray,
    right_key: np.ndarray,
    right_t: np.ndarray,
    *,
    direction: Literal["backward", "forward"],
    tolerance: int | None = None,
) -> np.ndarray:
    """Per left row, the position of its ``merge_asof`` match among the right rows (-1: none).

    Keys are integer codes and times int64 microseconds (no empty ones); ties go
    as in ``merge_asof`` over rows stably sorted by time.
    """
    left = pd.DataFrame({"key": left_key, "t": left_t, "row": np.arange(len(left_key))})
    right = pd.DataFrame({"key": right_key, "t": right_t, "pos": np.arange(len(right_key))})
    joined = pd.merge_asof(
        left.sort_values("t", kind="stable"),
        right.sort_values("t", kind="stable"),
        on="t",
        by="key",
        direction=direction,
        tolerance=tolerance,
    )
    pos = joined["pos"].to_numpy(dtype=float)
    found = ~np.isnan(pos)
    out = np.full(len(left_key), -1, dtype=np.int64)
    out[joined["row"].to_numpy()[found]] = pos[found].astype(np.int64)
    return out


def asof_matches(
    rows: np.ndarray,
    left: tuple[pd.Series, pd.Series],
    right: tuple[pd.Series, pd.Series],
    *,
    direction: Literal["backward", "forward"],
    tolerance: int | None = None,
) -> np.ndarray:
    """For the left table's ``rows``: the position of each one's as-of match among the
    right rows (-1: none), as :func:`asof_positions`.

    ``left`` and ``right`` are (key, time) column pairs: keys must be equal, times
    match as in ``merge_asof`` (``tolerance`` in microseconds). The left ``rows``
    must have a key and a time; the right rows are all candidates.
    """
    left_key, right_key = key_codes(left[0], right[0])
    return asof_positions(
        left_key[rows],
        micros(left[1])[rows],
        right_key,
        micros(right[1]),
        direction=direction,
        tolerance=tolerance,
    )
