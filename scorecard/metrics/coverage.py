"""Empty versus zero (SPEC §13): which teams a kind of event is *covered* for.

A count is empty only when no synced source that delivers that kind of event
covers the team; a covered team with none has a real 0. Whether events exist
does not decide it: a team whose pager is connected but quiet had 0 incidents,
not "no data". This module turns what the caller knows about its sources (what
each delivers, which teams it covers) into the per-kind team flags that
:class:`~scorecard.metrics.prepare.Prepared` counts read. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from scorecard.metrics.prepare import Prepared

__all__ = ["SourceCoverage", "covered_kinds", "with_coverage"]


@dataclass(frozen=True)
class SourceCoverage:
    """One synced source: the kinds of event it delivers and the teams it covers."""

    name: str
    kinds: frozenset[str]
    teams: frozenset[str]


def covered_kinds(sources: Iterable[SourceCoverage]) -> dict[str, set[str]]:
    """Per event kind, the teams some source delivering that kind covers."""
    out: dict[str, set[str]] = {}
    for source in sources:
        for kind in source.kinds:
            out.setdefault(kind, set()).update(source.teams)
    return out


def with_coverage(prep: Prepared, covered: Mapping[str, Iterable[str]]) -> Prepared:
    """``prep`` whose per-kind team flags also hold the ``covered`` teams.

    The flags decide empty (no covering source) against 0 (covered, none in
    the window) for the counts; a team with events of a kind stays covered.
    """
    has = dict(prep.has)
    for kind, teams in covered.items():
        flags = has.get(kind)
        if flags is not None:
            has[kind] = flags | flags.index.isin(list(teams))
    return replace(prep, has=has)
