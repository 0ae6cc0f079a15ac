"""The Markdown digest: what changed since last week, ready to paste into Slack or Confluence.

A lead's weekly note is a handful of lines, not a table: which team moved, how
(grade, gap, flags), and why the flagged ones are flagged. Team names and reasons
are escaped for Markdown (text from config and sources is data), and the lines
render the same in Slack, Confluence and GitHub.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from scorecard.export import md_escape
from scorecard.reports.changes import changes_since

if TYPE_CHECKING:
    from scorecard.reports.history import History
    from scorecard.scoring import Report

__all__ = ["render_digest"]


def render_digest(report: Report, history: History, since: date) -> str:
    """The digest: changes per team since ``since``, then the reasons of flagged teams."""
    now = report.as_of.date()
    changes = changes_since(history, since, now)
    moved = [c for c in changes if c.changed]
    span = "week over week" if (now - since).days == 7 else f"since {since.isoformat()}"
    lines = [
        f"## {md_escape(report.org)} scorecard, {span} ({since.isoformat()} → {now.isoformat()})",
        "",
    ]
    for change in moved:
        note = " _(baseline recomputed from events)_" if change.recomputed else ""
        lines.append(
            f"- **{md_escape(change.team)}**: {md_escape(', '.join(change.parts()))}{note}"
        )
    if not moved:
        lines.append("- No grade, flag or gap changed.")
    still = [md_escape(c.team) for c in changes if not c.changed]
    if still:
        lines += ["", f"Unchanged: {', '.join(still)}."]
    flagged = [(str(t), r) for t, r in report.table.iterrows() if r["flags"]]
    if flagged:
        lines += ["", "### Why teams are flagged", ""]
        for team, row in flagged:
            lines.append(f"- **{md_escape(team)}** ({', '.join(map(str, row['flags']))})")
            lines += [f"  - {md_escape(str(r))}" for r in row["reasons"] if r]
    lines += [
        "",
        f"_{report.window_days}-day windows, scoring version {history.scoring_version}._",
    ]
    return "\n".join(lines) + "\n"
