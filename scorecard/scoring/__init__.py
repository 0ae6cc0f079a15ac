"""Bands, scores, flags and their plain-language reasons (SPEC §3).

Pure: metrics in, a scored table out. The arithmetic is vectorized
(:mod:`.scores`); only the reasons (a few strings per team) are built per row,
because they are prose (:mod:`.reasons`); :mod:`.report` puts a whole
scorecard together. Every number a lead sees comes with the sentence that
explains it. Callers import everything from ``scorecard.scoring``.
"""

from __future__ import annotations

from scorecard.scoring.reasons import (
    FLAG_ORDER,
    Context,
    class_flags,
    class_reason,
    flags_and_reasons,
    stale_reason,
    stale_reasons,
    with_class_flags,
)
from scorecard.scoring.report import (
    SCORING_VERSION,
    SUMMARY_COLUMNS,
    Report,
    build_report,
    score_metrics,
)
from scorecard.scoring.scores import (
    GRADES,
    SCORE_COLUMNS,
    band_at_least,
    band_at_most,
    band_score,
    band_under,
    bands,
    declines,
    deploy_frequency_band,
    grade_of,
    scores,
)

__all__ = [
    "FLAG_ORDER",
    "GRADES",
    "SCORE_COLUMNS",
    "SCORING_VERSION",
    "SUMMARY_COLUMNS",
    "Context",
    "Report",
    "band_at_least",
    "band_at_most",
    "band_score",
    "band_under",
    "bands",
    "build_report",
    "class_flags",
    "class_reason",
    "declines",
    "deploy_frequency_band",
    "flags_and_reasons",
    "grade_of",
    "score_metrics",
    "scores",
    "stale_reason",
    "stale_reasons",
    "with_class_flags",
]
