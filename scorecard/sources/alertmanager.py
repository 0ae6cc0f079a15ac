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

from scorecard.sources.base import (
    Collected,
    FetchContext,
    HttpClient,
    SourceError,
    SourceResult,
    iso,
    parse_time,
    register,
)
from scorecard.sources.monitoring import AlertmanagerOptions
from scorecard.sources.prometheus import TeamMatcher, auth_headers, fingerprint, severity_of

if TYPE_CHECKING:
    from scorecard.config import Config, SourceConfig

STATE_VERSION: Final = 1
MAX_FIRING: Final = 500
"""Firing alerts kept in the state (a storm is summarized by its count)."""


@register("alertmanager")
class AlertmanagerSource:
    """Currently firing alerts, per team."""

    kind = "alertmanager"
    Options = AlertmanagerOptions

    def __init__(
        self, cfg: SourceConfig, *, strict: bool = False, config: Config | None = None
    ) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.strict = strict
        self.matcher = TeamMatcher.from_config(config)
        options = cfg.options
        self.severity_label = str(options.get("alert_severity_label") or "severity")
        self.service_label = str(options.get("alert_service_label") or "service")
        self.min_minutes = float(options.get("alert_min_minutes") or 0.0)
        self.severity_map: dict[str, str] = dict(options.get("severity_map") or {})
        self.alert_teams = {t.casefold() for t in options.get("alert_teams") or ()}
        self.transport: Any = None
        """An httpx transport to use instead of the network (tests)."""

    async def probe(self) -> str:
        """A light check for `scorecard config check`: the Alertmanager's status."""
        headers, secrets = auth_headers(self.cfg)
        client = HttpClient(
            self.cfg, auth_headers=headers, secrets=secrets, transport=self.transport
        )
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
        headers, secrets = auth_headers(self.cfg)
        client = HttpClient(
            self.cfg, auth_headers=headers, secrets=secrets, transport=self.transport
        )
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
        stats = client.stats.as_dict()
        stats["skipped"] = collected.skipped
        return SourceResult(
            frames={},
            skipped=collected.skipped,
            problems=[client._redact(p) for p in collected.problems],
            state={
                "version": STATE_VERSION,
                "firing": firing[:MAX_FIRING],
                "firing_count": len(firing),
                "firing_at": iso(ctx.until),
            },
            complete=collected.complete,
            stats=stats,
        )

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
            if self.alert_teams and (team or "").casefold() not in self.alert_teams:
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
