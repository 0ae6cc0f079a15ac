"""A fake Grafana OnCall public API (``/api/v1/alert_groups/``, ``teams/``,
``integrations/``) on 127.0.0.1.

Grafana OnCall publishes no OpenAPI description (see
``api-specs/grafana-oncall/NOTICE.md``); shapes follow the examples of its API
reference (``docs/sources/oncall-api-reference/``): DRF page-number listings
``{"count", "next", "previous", "results", "page_size", "current_page_number",
"total_pages"}``, alert groups with ``state``, ``created_at``, ``resolved_at``,
``team_id``, ``integration_id``, ``labels`` and ``permalinks``, the
``started_at=<from>_<to>`` filter, ``Authorization: <token>`` without a scheme
(401 ``{"detail": "Invalid token."}`` otherwise) and DRF's 429 with
``Retry-After``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Reply, Request

UTC = timezone.utc
TOKEN = "oncall-SENTINEL-0123456789abcdef"
TEAMS = {"TPAY1": "payments-oncall", "TSRCH": "search-oncall"}
INTEGRATIONS = {"CPAY1": ("Payments Alertmanager", "TPAY1"), "CSRCH": ("Search Grafana", "TSRCH")}


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def alert_group(
    ident: str,
    created: datetime,
    *,
    state: str = "resolved",
    resolved: datetime | None = None,
    team: str | None = "TPAY1",
    integration: str = "CPAY1",
    labels: dict[str, str] | None = None,
    title: str = "Memory above 90% threshold",
) -> dict[str, Any]:
    return {
        "id": ident,
        "integration_id": integration,
        "team_id": team,
        "route_id": "RIYGUJXCPFHXY",
        "alerts_count": 3,
        "state": state,
        "created_at": ts(created),
        "resolved_at": ts(resolved) if resolved else None,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "resolved_by": "UCGEIXI1MR1NZ" if resolved else None,
        "title": title,
        "permalinks": {
            "slack": None,
            "telegram": None,
            "web": f"https://acme.grafana.net/a/grafana-oncall-app/alert-groups/{ident}",
        },
        "silenced_at": None,
        "labels": [
            {"key": {"id": k, "name": k}, "value": {"id": v, "name": v}}
            for k, v in (labels if labels is not None else {"severity": "critical"}).items()
        ],
    }


@dataclass
class FakeOnCall:
    server: FakeServer
    alert_groups: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 50

    def __post_init__(self) -> None:
        self.server.route("/api/v1/alert_groups/", self._guarded(self._alert_groups))
        self.server.route("/api/v1/teams/", self._guarded(self._teams))
        self.server.route("/api/v1/integrations/", self._guarded(self._integrations))

    @property
    def url(self) -> str:
        return self.server.url

    def _guarded(self, handler: Any) -> Any:
        def serve(request: Request, server: FakeServer) -> Reply:
            if request.headers.get("authorization") != TOKEN:
                return Reply(401, {"detail": "Invalid token."})
            return Reply(200, handler(request))

        return serve

    def _page(self, request: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
        page = int(request.query.get("page", 1))
        size = self.page_size
        last = max(1, -(-len(items) // size))

        def link(n: int) -> str | None:
            if n < 1 or n > last:
                return None
            return f"{self.url}{request.path}?{urlencode({**request.query, 'page': str(n)})}"

        return {
            "count": len(items),
            "next": link(page + 1),
            "previous": link(page - 1),
            "results": items[(page - 1) * size : page * size],
            "page_size": size,
            "current_page_number": page,
            "total_pages": last,
        }

    def _alert_groups(self, request: Request) -> dict[str, Any]:
        items = sorted(self.alert_groups, key=lambda g: g["created_at"], reverse=True)
        span = request.query.get("started_at")
        if span:
            low, _, high = span.partition("_")
            items = [g for g in items if low <= g["created_at"][:19] <= high]
        integration = request.query.get("integration_id")
        if integration:
            items = [g for g in items if g["integration_id"] == integration]
        return self._page(request, items)

    def _teams(self, request: Request) -> dict[str, Any]:
        teams = [
            {"id": k, "grafana_id": 1, "name": v, "email": "", "avatar_url": ""}
            for k, v in TEAMS.items()
        ]
        return self._page(request, teams)

    def _integrations(self, request: Request) -> dict[str, Any]:
        integrations = [
            {"id": k, "name": name, "team_id": team, "type": "alertmanager", "link": ""}
            for k, (name, team) in INTEGRATIONS.items()
        ]
        return self._page(request, integrations)


def throttled() -> Reply:
    """DRF's throttled answer."""
    return Reply(
        429,
        {"detail": "Request was throttled. Expected available in 4 seconds."},
        {"Retry-After": "4"},
    )
