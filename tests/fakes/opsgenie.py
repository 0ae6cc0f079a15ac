"""A fake Opsgenie REST API (v1 incidents and services, v2 alerts and teams) on 127.0.0.1.

Shapes follow Opsgenie's API docs: ``{"data": [...], "paging": {"next", "first",
"last"}, "took", "requestId"}``, ``offset``/``limit`` with an ``offset + limit``
cap, ``createdAt>=<ms>`` queries, and ``X-RateLimit-State`` on throttled answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Reply, Request

UTC = timezone.utc
TEAMS = {"team-pay-id": "payments-oncall", "team-search-id": "search-oncall"}
SERVICES = {
    "svc-pay-id": ("payments-api", "team-pay-id"),
    "svc-search-id": ("search", "team-search-id"),
}


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def incident(
    ident: str,
    created: datetime,
    *,
    status: str = "resolved",
    priority: str = "P3",
    resolved: datetime | None = None,
    owner: str | None = "team-pay-id",
    services: list[str] | None = None,
    message: str = "Checkout errors",
    extra: dict[str, str] | None = None,
    tiny: int = 1,
) -> dict[str, Any]:
    return {
        "id": ident,
        "tinyId": str(tiny),
        "message": message,
        "status": status,
        "tags": ["checkout"],
        "createdAt": ts(created),
        "updatedAt": ts(resolved or created),
        "priority": priority,
        "ownerTeam": owner,
        "responders": [{"type": "team", "id": owner}] if owner else [],
        "extraProperties": extra or {},
        "impactedServices": services if services is not None else ["svc-pay-id"],
        "impactStartDate": ts(created),
        "impactEndDate": ts(resolved) if resolved is not None else None,
        "links": {
            "web": f"https://acme.app.opsgenie.com/incident/detail/{ident}",
            "api": f"https://api.opsgenie.com/v1/incidents/{ident}",
        },
        "actions": [],
    }


def alert(
    ident: str,
    created: datetime,
    *,
    status: str = "closed",
    priority: str = "P2",
    close_after: timedelta | None = timedelta(minutes=45),
    owner: str | None = "team-search-id",
    message: str = "Search latency high",
    tiny: int = 1,
) -> dict[str, Any]:
    report: dict[str, Any] = {"ackTime": 15517, "acknowledgedBy": "alice"}
    if status == "closed" and close_after is not None:
        report["closeTime"] = int(close_after.total_seconds() * 1000)
        report["closedBy"] = "alice"
    return {
        "id": ident,
        "tinyId": str(tiny),
        "alias": f"alias-{ident}",
        "message": message,
        "status": status,
        "acknowledged": True,
        "isSeen": True,
        "tags": ["latency"],
        "snoozed": False,
        "count": 1,
        "lastOccurredAt": ts(created),
        "createdAt": ts(created),
        "updatedAt": ts(created + (close_after or timedelta())),
        "source": "prometheus",
        "owner": "alice@acme.com",
        "priority": priority,
        "teams": [{"id": owner}] if owner else [],
        "responders": [{"type": "team", "id": owner}] if owner else [],
        "integration": {"id": "int-1", "name": "Prometheus", "type": "Prometheus"},
        "report": report,
        "ownerTeamId": owner or "",
    }


@dataclass
class FakeOpsgenie:
    server: FakeServer
    incidents: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    cap: int = 20_000

    def __post_init__(self) -> None:
        self.server.route("/v1/incidents", lambda r, s: self._list(r, self.incidents))
        self.server.route("/v2/alerts", lambda r, s: self._list(r, self.alerts))
        self.server.route("/v2/teams", self._teams)
        self.server.route("/v1/services", self._services)

    @property
    def url(self) -> str:
        return self.server.url

    def _envelope(self, data: Any, paging: dict[str, str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"data": data, "took": 0.01, "requestId": "req-1"}
        if paging is not None:
            body["paging"] = paging
        return body

    def _teams(self, request: Request, server: FakeServer) -> Reply:
        teams = [
            {"id": tid, "name": name, "description": "", "links": {}} for tid, name in TEAMS.items()
        ]
        return Reply(200, self._envelope(teams))

    def _services(self, request: Request, server: FakeServer) -> Reply:
        services = [
            {"id": sid, "name": name, "teamId": team, "description": "", "tags": []}
            for sid, (name, team) in SERVICES.items()
        ]
        return Reply(200, self._envelope(services, {"first": f"{self.url}/v1/services"}))

    def _list(self, request: Request, items: list[dict[str, Any]]) -> Reply:
        query = request.query
        offset = int(query.get("offset", 0))
        limit = int(query.get("limit", 20))
        if offset + limit > self.cap:
            return Reply(
                422,
                {"message": f"offset + limit must be at most {self.cap}", "took": 0.0},
            )
        lower = 0
        text = query.get("query", "")
        if text.startswith("createdAt>="):
            lower = int(text.removeprefix("createdAt>="))

        def millis(item: dict[str, Any]) -> int:
            at = datetime.fromisoformat(item["createdAt"].replace("Z", "+00:00"))
            return int(at.timestamp() * 1000)

        matching = sorted((i for i in items if millis(i) >= lower), key=millis)
        page = matching[offset : offset + limit]
        paging = {"first": f"{self.url}{request.path}?{urlencode({**query, 'offset': '0'})}"}
        if offset + limit < len(matching):
            paging["next"] = (
                f"{self.url}{request.path}?{urlencode({**query, 'offset': str(offset + limit)})}"
            )
        return Reply(200, self._envelope(page, paging))
