"""The "firing now" badge and the team's monitoring results (alertmanager, prometheus).

The app reads ``service.extras`` from the cache (read-only: nothing is written)
for the scorecard on screen and hands them to both; they hide themselves when
there is nothing to show, so the demo and orgs without monitoring sources look
exactly as before. Alert
names, summaries and labels come from other systems and are shown literally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from scorecard.tui.widgets.text import literal

if TYPE_CHECKING:
    from pathlib import Path

    from scorecard.service import Scorecard
    from scorecard.tui.palette import Palette

_CACHE: dict[int, dict[str, dict[str, Any]]] = {}


def extras_for(scorecard: Scorecard | None, store_root: Path | None) -> dict[str, dict[str, Any]]:
    """Per team, firing alerts and query results for ``scorecard`` (read from the cache
    under ``store_root``; none for the demo). Remembered for the last scorecard."""
    if scorecard is None or scorecard.demo:
        return {}
    key = id(scorecard)
    if key not in _CACHE:
        from scorecard import service
        from scorecard.store import Store

        try:
            found = service.extras(Store(store_root, read_only=True), scorecard.config)
        except Exception:  # a damaged cache must not take a screen down
            found = {}
        _CACHE.clear()
        _CACHE[key] = found
    return _CACHE[key]


def firing_badge(alerts: Sequence[Mapping[str, Any]], palette: Palette) -> Text:
    """``🔥 2 firing (sev1)``: the count and the worst severity."""
    if not alerts:
        return Text()
    worst = min(str(a.get("severity") or "sev5") for a in alerts)
    return Text(f"🔥 {len(alerts)} firing ({worst})", style=f"bold {palette.bad}")


def overview_text(extras: Mapping[str, Mapping[str, Any]], palette: Palette) -> Text:
    """One line: every team with alerts firing now, worst first."""
    teams = [(t, e.get("firing") or []) for t, e in extras.items() if e.get("firing")]
    if not teams:
        return Text()
    teams.sort(key=lambda item: (min(str(a.get("severity")) for a in item[1]), item[0]))
    text = Text("firing now: ", style=f"bold {palette.bad}")
    for i, (team, alerts) in enumerate(teams):
        if i:
            text.append(" · ")
        text.append_text(literal(team, "bold"))
        text.append(" ")
        text.append_text(firing_badge(alerts, palette))
        names = sorted({str(a.get("alertname")) for a in alerts})
        text.append(" ")
        text.append_text(literal(", ".join(names[:3]) + (" …" if len(names) > 3 else "")))
    return text


def team_text(extras: Mapping[str, Any] | None, palette: Palette) -> Text:
    """The team's firing alerts and query results (SLOs), one per line."""
    text = Text()
    if not extras:
        return text
    alerts = extras.get("firing") or []
    if alerts:
        text.append_text(firing_badge(alerts, palette))
        for alert in alerts[:10]:
            text.append("\n  ")
            text.append(str(alert.get("severity") or ""), style=f"bold {palette.bad}")
            text.append(" ")
            text.append_text(literal(str(alert.get("alertname") or "alert"), "bold"))
            if alert.get("service"):
                text.append_text(literal(f" ({alert['service']})"))
            text.append_text(literal(f" since {alert.get('starts_at') or '?'}", palette.muted))
            if alert.get("summary"):
                text.append_text(literal(f" — {alert['summary']}"))
        if len(alerts) > 10:
            text.append(f"\n  … {len(alerts) - 10} more", style=palette.muted)
    results = extras.get("slo") or []
    if results:
        if alerts:
            text.append("\n")
        at = extras.get("slo_at")
        text.append("Queries" + (f" (at {at})" if at else ""), style="bold")
        for entry in results[:20]:
            text.append("\n  ")
            text.append_text(literal(str(entry.get("name") or "query"), "bold"))
            labels = entry.get("labels") or {}
            if labels:
                shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
                text.append_text(literal(f" {{{shown}}}", palette.muted))
            text.append(": ")
            if entry.get("error"):
                text.append_text(literal(f"error: {entry['error']}", palette.bad))
            elif entry.get("value") is not None:
                text.append(f"{float(entry['value']):.4g}")
            else:
                text.append_text(literal(str(entry.get("value_text") or "—"), palette.muted))
    return text


class FiringNow(Static):
    """Overview: teams with alerts firing now (hidden when none)."""

    DEFAULT_CSS = """
    FiringNow {
        display: none;
        height: auto;
        padding: 0 1;
    }
    """

    def show(self, extras: Mapping[str, Mapping[str, Any]], palette: Palette) -> None:
        text = overview_text(extras, palette)
        self.update(text)
        self.display = bool(text.plain)


class TeamMonitoring(Static):
    """Team screen: firing alerts and query results of one team (hidden when none)."""

    DEFAULT_CSS = """
    TeamMonitoring {
        display: none;
        height: auto;
    }
    """

    def show(self, extras: Mapping[str, Any] | None, palette: Palette) -> None:
        text = team_text(extras, palette)
        self.update(text)
        self.display = bool(text.plain)
