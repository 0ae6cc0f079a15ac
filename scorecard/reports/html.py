"""The HTML report: one self-contained, printable file for leaders who never open a terminal.

Everything is in the one file: styles, inline SVG charts (``charts``), text. No
script, no font, no image and no request leaves it, so it opens from a mail
attachment or a shared drive, prints on A4 or Letter, and cannot run anything a
team name or a reason smuggled in (every text is escaped). It shows the gap per
team, the pressure-vs-rigor map, the summary, what changed since a date, and
each flagged team's trends and reasons.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import TYPE_CHECKING, Any, Final

from scorecard.reports.changes import TeamChange, changes_since
from scorecard.reports.charts import Bar, Dot, Series, gap_bars, pressure_rigor_map, trend_lines
from scorecard.text import num

if TYPE_CHECKING:
    from scorecard.reports.history import History
    from scorecard.scoring import Report

__all__ = ["render_html"]

STYLE: Final = """
body { font-family: system-ui, sans-serif; color: #1f2933; margin: 2rem auto; max-width: 60rem;
       padding: 0 1rem; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; } .meta { color: #52606d; margin-top: 0; }
section { margin: 2rem 0; break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #d9e2ec; padding: 0.3rem 0.5rem; text-align: right; }
th:first-child, td:first-child, th:last-child, td.flags { text-align: left; }
.flag { background: #fdecea; color: #c62828; border-radius: 3px; padding: 0 0.3rem;
        margin-right: 0.2rem; font-size: 0.8rem; }
.team { border-top: 2px solid #d9e2ec; padding-top: 0.5rem; }
.note { color: #52606d; font-size: 0.85rem; }
svg.chart { max-width: 100%; height: auto; display: block; }
@media print { body { margin: 0; max-width: none; } section { margin: 1rem 0; } }
@page { margin: 1.5cm; }
"""


def render_html(report: Report, history: History, since: date) -> str:
    """The whole report as one HTML document."""
    table = report.table
    now = report.as_of.date()
    title = f"{report.org} scorecard, {now.isoformat()}"
    body = [
        f"<h1>{escape(report.org)} scorecard</h1>",
        f'<p class="meta">As of {report.as_of:%Y-%m-%d %H:%M} UTC, {report.window_days}-day '
        f"window ({report.start:%Y-%m-%d} to {report.as_of:%Y-%m-%d}), benchmarks "
        f"{escape(report.bench.name)}, scoring version {history.scoring_version}.</p>",
        _section("Where pressure outpaces rigor", gap_bars(_bars(table))),
        _section("Pressure versus rigor", pressure_rigor_map(_dots(table))),
        _section("Every team", _summary_table(table)),
        _section(f"Since {since.isoformat()}", _changes(changes_since(history, since, now))),
        *_flagged(table, history),
        _provenance(history),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _section(heading: str, content: str, *, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f"<section{cls}>\n<h2>{escape(heading)}</h2>\n{content}\n</section>"


def _flags_of(row: Any) -> list[str]:
    flags = row["flags"]
    return [str(f) for f in flags] if isinstance(flags, list) else []


def _value(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def _bars(table: Any) -> list[Bar]:
    rows = [(str(t), _value(r["gap"]), bool(_flags_of(r))) for t, r in table.iterrows()]
    rows.sort(key=lambda r: -(r[1] if r[1] is not None else -1000))
    return [Bar(team, gap, flagged) for team, gap, flagged in rows]


def _dots(table: Any) -> list[Dot]:
    out = []
    for team, row in table.iterrows():
        pressure, rigor = _value(row["pressure"]), _value(row["rigor"])
        if pressure is not None and rigor is not None:
            out.append(Dot(str(team), pressure, rigor, bool(_flags_of(row))))
    return out


def _summary_table(table: Any) -> str:
    head = "".join(
        f"<th>{h}</th>" for h in ("Team", "Grade", "Pressure", "Rigor", "Stability", "Gap", "Flags")
    )
    rows = []
    for team, row in table.iterrows():
        grade = row["grade"] if isinstance(row["grade"], str) else "—"
        cells = [escape(str(team)), escape(grade)]
        cells += [num(_value(row[k])) for k in ("pressure", "rigor", "stability", "gap")]
        flags = "".join(f'<span class="flag">{escape(f)}</span>' for f in _flags_of(row))
        rows.append(
            "<tr>"
            + "".join(f"<td>{c}</td>" for c in cells)
            + f'<td class="flags">{flags}</td></tr>'
        )
    return (
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table>"
    )


def _changes(changes: list[TeamChange]) -> str:
    moved = [c for c in changes if c.changed]
    if not moved:
        return '<p class="note">No grade, flag or gap changed.</p>'
    items = []
    for change in moved:
        note = " (baseline recomputed from events)" if change.recomputed else ""
        items.append(
            f"<li><strong>{escape(change.team)}</strong>: {escape(', '.join(change.parts()))}"
            f'<span class="note">{escape(note)}</span></li>'
        )
    still = [c.team for c in changes if not c.changed]
    tail = f'<p class="note">Unchanged: {escape(", ".join(still))}.</p>' if still else ""
    return "<ul>\n" + "\n".join(items) + "\n</ul>" + tail


def _flagged(table: Any, history: History) -> list[str]:
    out = []
    for team, row in table.iterrows():
        flags = _flags_of(row)
        if not flags:
            continue
        reasons = row["reasons"] if isinstance(row["reasons"], list) else []
        items = "".join(f"<li>{escape(str(r))}</li>" for r in reasons if r)
        chart = _team_chart(str(team), history)
        content = (
            "<p>" + "".join(f'<span class="flag">{escape(f)}</span>' for f in flags) + "</p>"
            f"<ul>{items}</ul>{chart}"
        )
        out.append(_section(str(team), content, css="team"))
    return out


def _team_chart(team: str, history: History) -> str:
    points = history.team(team)
    if len(points) < 2:
        return '<p class="note">Not enough history for a trend yet.</p>'
    days = [str(d) for d in points["day"]]
    hollow = frozenset(i for i, o in enumerate(points["origin"]) if o == "recomputed")
    series = [
        Series(name, list(zip(days, (_value(v) for v in points[name]))), hollow)
        for name in ("pressure", "rigor", "gap")
    ]
    return trend_lines(f"{team}: pressure, rigor and gap over time", series)


def _provenance(history: History) -> str:
    share = history.recomputed_share()
    text = (
        f"Trend points are daily snapshots of the scored summary (scoring version "
        f"{history.scoring_version}); {share:.0%} of them were recomputed from cached events "
        "where no snapshot was kept (hollow markers)."
    )
    changed = history.definition_changes()
    if changed:
        text += " Compare with care: snapshots were kept under " + "; ".join(changed) + "."
    return f'<p class="note">{escape(text)}</p>'
