"""`kind = "alertmanager"`: the alerts firing right now (Alertmanager API v2).

``GET /api/v2/alerts?active=true&silenced=false&inhibited=false`` lists the
alerts that are firing and neither silenced nor inhibited. Each goes to the
team named by its ``team`` label, else the team whose ``services`` list its
service label (``alert_service_label``, default ``service``, with
``namespace/service`` tried first). ``alert_min_minutes`` hides alerts younger
than that, ``alert_teams`` limits the teams, and the severity label
(``alert_severity_label``) maps to ``sev1..sev5`` like the prometheus source.

Firing alerts are a snapshot, not history, so they are not events: the source
keeps them in its sync state (``state["firing"]``), which the overview's and
the team screen's "firing now" badge and ``service.extras`` read.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from scorecard.errors import SourceError
from scorecard.sources.monitoring import (
    AlertmanagerOptions,
    MonitoringSource,
    fingerprint,
    severity_of,
)
from scorecard.sources.records import Collected, iso, parse_time
from scorecard.sources.registry import register

if TYPE_CHECKING:
    from scorecard.sources.contract import FetchContext, SourceResult
    from scorecard.sources.http import HttpClient

MAX_FIRING: Final = 500
"""Firing alerts kept in the state (a storm is summarized by its count)."""


@register
class AlertmanagerSource(MonitoringSource[AlertmanagerOptions]):
    """Currently firing alerts, per team."""

    kind = "alertmanager"
    Options = AlertmanagerOptions

    async def probe(self) -> str:
        """A light check for `scorecard config check`: the Alertmanager's status."""
        client = self.client()
        async with client:
            page = await client.get("api/v2/status", conditional=False)
        data = page.data if isinstance(page.data, dict) else {}
        info = data.get("versionInfo") if isinstance(data.get("versionInfo"), dict) else {}
        version = (info or {}).get("version")
        if not data:
            raise SourceError(
                f"{self.name}: GET api/v2/status did not answer an Alertmanager status"
            )
        return f"Alertmanager {version}" if version else "Alertmanager API v2"

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        client = self.client()
        collected = Collected()
        async with client:
            page = await client.get(
                "api/v2/alerts",
                {"active": "true", "silenced": "false", "inhibited": "false"},
                conditional=False,
            )
        if page.malformed or not isinstance(page.data, list):
            raise SourceError(
                f"{self.name}: GET api/v2/alerts did not answer a list of alerts "
                "(is `url` the Alertmanager, e.g. http://alertmanager:9093?)"
            )
        firing = self.firing(page.data, ctx.until, collected, client)
        firing.sort(key=lambda a: (a["severity"], a["starts_at"], a["alertname"]))
        if len(firing) > MAX_FIRING:
            collected.problem(f"{len(firing):,} alerts firing; kept the {MAX_FIRING} most severe")
        client.stats.count("firing", len(firing))
        state = {
            "version": self.state_version,
            "firing": firing[:MAX_FIRING],
            "firing_count": len(firing),
            "firing_at": iso(ctx.until),
        }
        return self.result(collected, client, frames={}, state=state)

    def firing(
        self, alerts: list[Any], now: datetime, collected: Collected, client: HttpClient
    ) -> list[dict[str, Any]]:
        """The alerts (v2 ``gettableAlert`` objects) that count, as plain records."""
        out: list[dict[str, Any]] = []
        for alert in alerts:
            if not isinstance(alert, dict) or not isinstance(alert.get("labels"), dict):
                collected.bad("alert", "not an alert object")
                continue
            labels = {str(k): str(v) for k, v in alert["labels"].items()}
            name = labels.get("alertname") or "alert"
            status = alert.get("status") if isinstance(alert.get("status"), dict) else {}
            if (status or {}).get("state", "active") != "active":
                continue  # an old Alertmanager that ignores the filters
            starts = parse_time(alert.get("startsAt"))
            if starts is None:
                collected.bad(f"alert {name}", "missing startsAt")
                continue
            if starts > now:
                continue
            if (now - starts).total_seconds() / 60 < self.min_minutes:
                client.stats.count("firing_too_young")
                continue
            team, service = self.matcher.labels(labels, self.service_label)
            if not self.team_wanted(team):
                client.stats.count("firing_other_teams")
                continue
            annotations = (
                alert.get("annotations") if isinstance(alert.get("annotations"), dict) else {}
            )
            summary = (annotations or {}).get("summary") or (annotations or {}).get("description")
            url = alert.get("generatorURL")
            out.append(
                {
                    "team": team,
                    "alertname": name,
                    "service": service,
                    "severity": severity_of(labels.get(self.severity_label), self.severity_map),
                    "starts_at": iso(starts),
                    "summary": str(summary) if summary else None,
                    "fingerprint": str(alert.get("fingerprint") or fingerprint(labels)),
                    "url": url if isinstance(url, str) and url else None,
                }
            )
        return out
