"""Datadog events read as scorecard events: monitors' alert history as incidents,
deploy events and DORA deployment events as deployments.

Kept apart from :mod:`scorecard.sources.datadog` (the source and its incidents)
so each stays one screen of reading: this module turns already-fetched Datadog
payloads into normalized records and owns no HTTP.

- **Monitor alerts**: v2 events of monitors (``attributes.attributes`` holds
  ``monitor_id``, ``monitor_groups`` and ``status``), replayed in time order per
  monitor and group: ``error`` or ``warning`` opens an alert (the most severe
  status seen while open wins), ``success`` closes it. An alert still open at
  the end of the range stays open.
- **Deploy events**: one deployment per v2 event, its service, environment,
  version and commit read from ``service:``, ``env:``, ``version:`` and
  ``git.commit.sha:`` tags; an event of status ``error`` is a failed deploy.
- **DORA deployments**: Datadog's own deployment events (nanosecond times,
  ``git.repository_id`` such as ``github.com/acme/api``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final

from scorecard.sources.incidents import Vocabulary
from scorecard.sources.records import parse_time

__all__ = [
    "MONITOR_SEVERITIES",
    "AlertReplay",
    "deploy_event_record",
    "dora_record",
    "event_time",
    "tag_values",
]

MONITOR_SEVERITIES: Final = {"error": "sev2", "warning": "sev3"}
"""A monitor alert's status -> severity (``severity_map`` overrides: ``error = "sev1"``)."""
OPENING: Final = frozenset({"error", "warning", "alert", "warn"})
CLOSING: Final = frozenset({"success", "ok", "recovered"})
FAILED_DEPLOY: Final = frozenset({"error", "failure"})


def tag_values(tags: Any, name: str) -> list[str]:
    """The values of ``name:value`` tags (``name`` matched case-insensitively)."""
    prefix = f"{name.casefold()}:"
    out = []
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, str) and tag.casefold().startswith(prefix):
            value = tag[len(prefix) :].strip()
            if value:
                out.append(value)
    return out


def event_time(value: Any) -> datetime | None:
    """An event time: ISO 8601 text, or POSIX milliseconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    return parse_time(value)


def nanos(value: Any) -> datetime | None:
    """A DORA time: POSIX nanoseconds."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value / 1e9, tz=timezone.utc)
    return None


def event_parts(event: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """A v2 event's outer attributes, inner attributes and tags."""
    outer = event.get("attributes")
    outer = outer if isinstance(outer, dict) else {}
    inner = outer.get("attributes")
    inner = inner if isinstance(inner, dict) else {}
    tags = outer.get("tags") if isinstance(outer.get("tags"), list) else inner.get("tags")
    return outer, inner, tags if isinstance(tags, list) else []


@dataclass
class OpenAlert:
    """One monitor alert being replayed."""

    record: dict[str, Any]
    rank: int


@dataclass
class AlertReplay:
    """Monitor events replayed into incidents (one per trigger-to-recovery span)."""

    source: str
    severities: Vocabulary
    team_of: Callable[[Iterable[str]], str | None]
    """Team tags (``team:``) -> scorecard team."""
    incidents: list[dict[str, Any]] = field(default_factory=list)
    open: dict[str, OpenAlert] = field(default_factory=dict)
    ignored: int = 0
    """Events that neither open nor close an alert (info, user updates)."""

    def replay(self, events: Iterable[Mapping[str, Any]]) -> list[str]:
        """Replay ``events`` (any order); the reasons events were skipped."""
        problems: list[str] = []
        timed = []
        for event in events:
            _outer, inner, _tags = event_parts(event)
            at = event_time(event_parts(event)[0].get("timestamp")) or event_time(
                inner.get("timestamp")
            )
            if at is None or inner.get("monitor_id") is None:
                problems.append(f"monitor event {event.get('id', '?')}: no time or monitor id")
                continue
            timed.append((at, str(event.get("id") or ""), event))
        for at, _ident, event in sorted(timed, key=lambda t: (t[0], t[1])):
            self.step(at, event)
        return problems

    def step(self, at: datetime, event: Mapping[str, Any]) -> None:
        outer, inner, tags = event_parts(event)
        groups = inner.get("monitor_groups") or []
        key = f"{inner.get('monitor_id')}|{','.join(sorted(str(g) for g in groups))}"
        status = str(inner.get("status") or "").casefold()
        current = self.open.get(key)
        if status in CLOSING:
            if current is not None:
                current.record["resolved_at"] = max(at, current.record["created_at"])
                del self.open[key]
            return
        if status not in OPENING:
            self.ignored += 1
            return
        severity = self.severities.get(status)
        if severity is None:
            return
        rank = int(severity.removeprefix("sev"))
        if current is not None:
            if rank < current.rank:
                current.record["severity"], current.rank = severity, rank
            return
        record = self.alert_record(event, at, severity, key, outer, inner, tags)
        self.incidents.append(record)
        self.open[key] = OpenAlert(record, rank)

    def alert_record(
        self,
        event: Mapping[str, Any],
        at: datetime,
        severity: str,
        key: str,
        outer: Mapping[str, Any],
        inner: Mapping[str, Any],
        tags: list[Any],
    ) -> dict[str, Any]:
        raw = inner.get("monitor")
        monitor: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        title = monitor.get("name") or inner.get("title") or outer.get("message")
        services = tag_values(tags, "service") or (
            [inner["service"]] if isinstance(inner.get("service"), str) else []
        )
        return {
            "id": f"datadog-monitor/{key.split('|', 1)[0]}/{event.get('id')}",
            "source": self.source,
            "team": self.team_of(tag_values(tags, "team")),
            "service": services[0] if services else None,
            "title": str(title) if title else None,
            "severity": severity,
            "created_at": at,
            "started_at": at,
            "resolved_at": None,
            "deployment_id": None,
            "url": None,
        }


def deploy_event_record(
    event: Mapping[str, Any], source: str, team_of: Callable[[Iterable[str]], str | None]
) -> dict[str, Any] | str:
    """A deployment from a v2 deploy event, or why it is skipped."""
    ident = event.get("id")
    if not isinstance(ident, str) or not ident:
        return "missing id"
    outer, inner, tags = event_parts(event)
    at = event_time(outer.get("timestamp")) or event_time(inner.get("timestamp"))
    if at is None:
        return "missing timestamp"
    services = tag_values(tags, "service") or (
        [inner["service"]] if isinstance(inner.get("service"), str) else []
    )
    envs = tag_values(tags, "env") or tag_values(tags, "environment")
    if not envs:
        return "no env: tag"
    shas = tag_values(tags, "git.commit.sha")
    repos = tag_values(tags, "git.repository_url")
    failed = str(inner.get("status") or "").casefold() in FAILED_DEPLOY
    return {
        "id": f"datadog-event/{ident}",
        "source": source,
        "team": team_of(tag_values(tags, "team")),
        "service": services[0] if services else None,
        "repo": repo_name(repos[0]) if repos else None,
        "environment": envs[0],
        "status": "failure" if failed else "success",
        "strategy": "unknown",
        "started_at": at,
        "finished_at": at,
        "commit_sha": shas[0] if shas else None,
        "is_rollback": False,
        "url": None,
    }


def repo_name(repository_id: Any) -> str | None:
    """``github.com/acme/api`` (or a URL) -> ``acme/api``."""
    if not isinstance(repository_id, str) or not repository_id:
        return None
    text = repository_id.split("://", 1)[-1].removesuffix(".git")
    parts = [p for p in text.split("/") if p]
    return "/".join(parts[1:]) if len(parts) > 2 else "/".join(parts)


def dora_record(
    item: Mapping[str, Any], source: str, team_of: Callable[[Iterable[str]], str | None]
) -> dict[str, Any] | str:
    """A deployment from a DORA deployment event, or why it is skipped."""
    ident = item.get("id")
    if not isinstance(ident, str) or not ident:
        return "missing id"
    attrs = item.get("attributes")
    attrs = attrs if isinstance(attrs, dict) else {}
    started, finished = nanos(attrs.get("started_at")), nanos(attrs.get("finished_at"))
    if started is None or finished is None:
        return "missing started_at or finished_at"
    raw_git = attrs.get("git")
    git: Mapping[str, Any] = raw_git if isinstance(raw_git, dict) else {}
    team = attrs.get("team")
    return {
        "id": f"datadog-dora/{ident}",
        "source": source,
        "team": team_of([team] if isinstance(team, str) else []),
        "service": attrs.get("service") if isinstance(attrs.get("service"), str) else None,
        "repo": repo_name(git.get("repository_id")),
        "environment": attrs.get("env") if isinstance(attrs.get("env"), str) else None,
        "status": "success",
        "strategy": "unknown",
        "started_at": min(started, finished),
        "finished_at": finished,
        "commit_sha": git.get("commit_sha") if isinstance(git.get("commit_sha"), str) else None,
        "is_rollback": False,
        "url": None,
    }
