"""One team: every metric with band, trend and weekly sparkline; why; what went wrong.

Every number opens the events behind it (SPEC §13): ``enter`` on a metric, or a
click on a reason or a flag, shows :class:`~scorecard.tui.screens.explain.ExplainScreen`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from scorecard.text import has_value, hours, percent
from scorecard.tui.palette import Palette
from scorecard.tui.screens.base import CURSOR_KEYS, ScorecardScreen
from scorecard.tui.screens.team_links import (
    METRIC_ORDER,
    clickable,
    flag_metric,
    link_metric_rows,
    reason_metric,
    unlinked_warning,
)
from scorecard.tui.state import Shown, Status
from scorecard.tui.threads import from_thread
from scorecard.tui.view import deploy_tables, incident_table, metric_rows, team_flags, value
from scorecard.tui.widgets.busy import BusyBar
from scorecard.tui.widgets.charts import badges, gap_bar
from scorecard.tui.widgets.firing import TeamMonitoring
from scorecard.tui.widgets.infobar import InfoBar
from scorecard.tui.widgets.text import literal

if TYPE_CHECKING:
    from scorecard.config import ChangeClassConfig
    from scorecard.metrics import Explanation
    from scorecard.scoring import Report
    from scorecard.service import Scorecard

DEPLOY_COLUMNS = ("Finished (UTC)", "Deploy", "Service", "Strategy", "Rollback", "Incidents")
CLASS_COLUMNS = (
    "Class",
    "Deploys",
    "Gated",
    "Canary",
    "CFR",
    "Recovery p50",
    "Other deploys",
    "Other canary",
    "Other CFR",
    "Other recovery",
    "",
)


class Page(VerticalScroll):
    BINDINGS = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]


class MetricTable(DataTable[Text]):
    """The team's metrics; ``enter`` opens the events behind the highlighted one.

    Keys that move through the page (``end``, ``home``, page up and down, and
    down past the last metric) scroll the page it is on, as before it had focus.
    """

    BINDINGS = [
        Binding("enter", "select_cursor", "Explain"),
        *CURSOR_KEYS,
        Binding("end", "page('end')", show=False),
        Binding("home", "page('home')", show=False),
        Binding("pagedown", "page('down')", show=False),
        Binding("pageup", "page('up')", show=False),
    ]

    def action_page(self, where: str) -> None:
        page = self.parent
        if isinstance(page, Page):
            moves = {
                "end": page.scroll_end,
                "home": page.scroll_home,
                "down": page.scroll_page_down,
                "up": page.scroll_page_up,
            }
            moves[where]()

    def action_cursor_down(self) -> None:
        if self.cursor_row >= self.row_count - 1 and isinstance(self.parent, Page):
            self.parent.scroll_down()
        else:
            super().action_cursor_down()


def _table(id: str, columns: tuple[str, ...]) -> DataTable[Text]:
    table: DataTable[Text] = DataTable(id=id, cursor_type="none", zebra_stripes=True)
    table.can_focus = False
    for label in columns:
        table.add_column(label)
    return table


class TeamScreen(ScorecardScreen):
    """The drill-down for one team."""

    BINDINGS = [Binding("escape", "back", "Back")]

    class WeeklyComputed(Message):
        """The weekly metrics of ``report`` were computed (the app keeps them)."""

        def __init__(self, report: Report, weekly: Any) -> None:
            super().__init__()
            self.report = report
            self.weekly = weekly

    def __init__(self, team: str, shown: Shown | None = None, status: Status | None = None) -> None:
        super().__init__(shown, status, id="team")
        self.team = team
        self.weekly: Any = None

    def compose(self) -> ComposeResult:
        yield InfoBar(self.status.header, id="info")
        yield BusyBar(self.status.busy)
        with Page(id="page"):
            yield Static("", id="title")
            yield TeamMonitoring(id="monitoring")
            yield Static(
                "Metrics (trend vs the previous window; sparkline: last 12 weeks)",
                classes="section",
            )
            metrics = MetricTable(id="metrics", cursor_type="row", zebra_stripes=True)
            for label in ("Metric", "Value", "Band", "Trend", "12 weeks"):
                metrics.add_column(label)
            yield metrics
            yield Static("Why", classes="section")
            yield Static("", id="reasons")
            yield Static("", id="incidents-title", classes="section")
            yield _table(
                "incidents",
                ("Sev", "Created (UTC)", "Title", "Duration", "Attributed deploy", "Link"),
            )
            yield Static("", id="failed-title", classes="section")
            yield _table("failed", DEPLOY_COLUMNS)
            yield Static("", id="risky-title", classes="section")
            yield _table("risky", DEPLOY_COLUMNS)
            yield Static("Change classes", id="classes-title", classes="section")
            yield _table("class-table", CLASS_COLUMNS)
            yield Static("", id="classes")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(MetricTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "metrics" and 0 <= event.cursor_row < len(METRIC_ORDER):
            self.action_explain(METRIC_ORDER[event.cursor_row])

    def action_explain(self, metric: str) -> None:
        """Open the events behind ``metric`` (computed in a worker)."""
        card = self.shown.scorecard
        if card is not None and self.team in card.report.table.index:
            self._explain_worker(card, metric)

    @work(thread=True, exclusive=True, group="explain")
    def _explain_worker(self, card: Scorecard, metric: str) -> None:
        from scorecard import service

        found = service.explain(card, self.team, metric)
        if not get_current_worker().is_cancelled:
            from_thread(self.app, self._explained, found)

    def _explained(self, found: Explanation) -> None:
        from scorecard.tui.screens.explain import ExplainScreen

        if self.app.screen is self:
            self.app.push_screen(ExplainScreen(found, self.shown.palette))

    def draw_scorecard(self, scorecard: Scorecard) -> None:
        report = scorecard.report
        if self.team not in report.table.index:
            self.query_one("#title", Static).update(
                literal(f"{self.team} is not in this scorecard any more")
            )
            return
        self.weekly = self.shown.weekly
        if self.weekly is None:
            self._weekly_worker(report)
        self._draw(report)

    @work(thread=True, exclusive=True, group="weekly")
    def _weekly_worker(self, report: Report) -> None:
        from scorecard import metrics

        worker = get_current_worker()
        try:
            weekly = metrics.weekly_metrics(report.prepared, report.as_of)
        except Exception:
            return  # the sparklines stay blank; the values are still right
        if worker.is_cancelled:
            return
        from_thread(self.app, self._weekly_ready, report, weekly)

    def _weekly_ready(self, report: Report, weekly: Any) -> None:
        self.post_message(self.WeeklyComputed(report, weekly))
        sc = self.shown.scorecard
        if sc is not None and sc.report is report:
            self.weekly = weekly
            self._draw(report)

    def _draw(self, report: Report) -> None:
        palette = self.shown.palette
        row = report.table.loc[self.team]
        self.query_one("#title", Static).update(self._title(row, palette))
        rows = metric_rows(report, self.team, self.weekly, palette)
        self._fill("metrics", rows + link_metric_rows(report, self.team, self.weekly, palette))
        self.query_one("#reasons", Static).update(self._reasons(row, palette))
        count, rows = incident_table(report, self.team)
        self._section("incidents-title", "Recent incidents", count, len(rows))
        self._fill("incidents", rows)
        (n_failed, failed), (n_risky, risky) = deploy_tables(report, self.team)
        self._section("failed-title", "Failed production deploys", n_failed, len(failed))
        self._fill("failed", failed)
        self._section(
            "risky-title", "Production deploys without canary or blue-green", n_risky, len(risky)
        )
        self._fill("risky", risky)
        self._draw_classes(report, palette)
        self.query_one(TeamMonitoring).show(self.shown.extras.get(self.team), palette)

    def _title(self, row: Any, palette: Palette) -> Text:
        """The team, its grade, scores, gap bar and flag badges on one line."""
        title = Text()
        title.append_text(literal(self.team, "bold"))
        grade = value(row, "grade")
        title.append(f"   grade {grade if grade is not None else '—'}", style="bold")
        for label in ("pressure", "rigor", "stability"):
            v = value(row, label)
            title.append(f" · {label} {round(v) if v is not None else '—'}")
        title.append(" · gap ")
        title.append_text(gap_bar(value(row, "gap"), palette))
        flags = team_flags(row, self.shown.stale)
        reasons = [str(r) for r in (row.get("reasons") or [])]
        for flag in flags:
            title.append("   " if flag == flags[0] else " ")
            title.append_text(clickable(badges([flag], palette), flag_metric(flag, reasons)))
        return title

    def _reasons(self, row: Any, palette: Palette) -> Text:
        """The reasons, each opening the metric it is about when clicked (``↗``)."""
        reasons = Text()
        warning = unlinked_warning(row)
        if warning:
            reasons.append_text(
                clickable(Text(f"⚠ {warning} ↗", palette.warn), "incidents_unlinked")
            )
        for reason in row.get("reasons") or []:
            if reasons:
                reasons.append("\n")
            metric = reason_metric(str(reason))
            line = Text("• ")
            line.append_text(literal(reason))
            if metric is not None:
                line.append(" ↗", style=palette.muted)
            reasons.append_text(clickable(line, metric))
        if self.shown.stale_error:
            reasons.append("\n• ")
            reasons.append_text(literal(f"stale: {self.shown.stale_error}", palette.warn))
        return reasons or Text("nothing to explain")

    def _draw_classes(self, report: Report, palette: Palette) -> None:
        """Each configured change class: its deploys against the team's other deploys."""
        assert self.shown.scorecard is not None
        configured = list(self.shown.scorecard.config.change_classes)
        title = self.query_one("#classes-title", Static)
        if not configured:
            title.update(Text("Change classes"))
            self._fill("class-table", [])
            self.query_one("#classes", Static).update(
                Text("No change classes configured ([change_classes.NAME] in the config).")
            )
            return
        title.update(
            Text(
                f"Change classes (deploys in the last {report.window_days} days, "
                "against the team's other deploys)"
            )
        )
        mine = report.classes[report.classes["team"] == self.team]
        rows: list[list[Text]] = []
        for cls in configured:
            found = mine[mine["class"] == cls.name]
            if len(found) == 0:
                rows.append(
                    [literal(cls.name, "bold"), Text("0")]
                    + [Text("—", style=palette.muted) for _ in CLASS_COLUMNS[2:-1]]
                    + [Text("")]
                )
                continue
            rows.append(_class_cells({str(k): v for k, v in found.iloc[0].items()}, palette))
        self._fill("class-table", rows)
        self.query_one("#classes", Static).update(class_notes(configured))

    def _section(self, id: str, label: str, total: int, shown: int) -> None:
        suffix = f" ({total} in the window" + (f", latest {shown})" if total > shown else ")")
        self.query_one(f"#{id}", Static).update(Text(label + suffix))

    def _fill(self, id: str, rows: list[list[Text]]) -> None:
        table = self.query_one(f"#{id}", DataTable)
        table.clear()
        for cells in rows:
            table.add_row(*cells)
        table.display = bool(rows)


def class_notes(configured: Sequence[ChangeClassConfig]) -> Text:
    """What "gated" means for each class (its required workflow and floor)."""
    notes = Text()
    for cls in configured:
        if notes:
            notes.append("\n")
        notes.append("• ")
        notes.append_text(literal(cls.name, "bold"))
        if cls.required_workflow:
            notes.append(": gated = share of its deploys preceded by a passing ")
            notes.append_text(literal(f"`{cls.required_workflow}`"))
            notes.append(f" run on the deployed commit (floor {cls.gated_floor * 100:.0f}%)")
        else:
            notes.append(": no required_workflow, so no gate is checked")
    return notes


def _class_cells(row: dict[str, Any], palette: Palette) -> list[Text]:
    """One class row: values coloured where the class is riskier than the rest."""
    from scorecard.classes import CANARY_MARGIN, FAILURE_MARGIN

    muted = palette.muted
    gated = row["gated_share"]
    gated_text = Text(percent(gated), style="" if has_value(gated) else muted)
    if has_value(gated):
        gated_text.stylize(palette.bad if row["ungated"] else palette.good)
        gated_text.append(f" ({row['gated_deploys']:.0f})", style=muted)
    canary = Text(percent(row["canary_share"]))
    # NaN on either side compares False: nothing to colour
    if row["other_canary_share"] - row["canary_share"] >= CANARY_MARGIN - 1e-9:
        canary.stylize(palette.warn)
    cfr = Text(percent(row["change_failure_rate"]))
    if row["change_failure_rate"] - row["other_change_failure_rate"] >= FAILURE_MARGIN - 1e-9:
        cfr.stylize(palette.warn)
    if row["ungated"]:
        status = Text(f"UNGATED-{str(row['class']).upper()}", style=f"bold {palette.bad}")
    elif row["riskier"]:
        status = Text("riskier", style=f"bold {palette.warn}")
    else:
        status = Text("ok", style=palette.good)

    def plain(text: str) -> Text:
        return Text(text, style=muted if text == "—" else "")

    return [
        literal(str(row["class"]), "bold"),
        Text(f"{row['deploys']:.0f}"),
        gated_text,
        canary,
        cfr,
        plain(hours(row["recovery_time_p50_hours"])),
        plain(f"{row['other_deploys']:.0f}"),
        plain(percent(row["other_canary_share"])),
        plain(percent(row["other_change_failure_rate"])),
        plain(hours(row["other_recovery_time_p50_hours"])),
        status,
    ]
