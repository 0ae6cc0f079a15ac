"""A fake Datadog API (v2 incident search, v2 events, DORA deployments) on 127.0.0.1.

Shapes follow Datadog's published OpenAPI description (``api-specs/datadog``;
tests validate every answer against it): incident search answers
``{"data": {"attributes": {"incidents": [{"data": ...}], "facets", "total"}},
"meta": {"pagination": {"offset", "next_offset", "size"}}}`` paged with
``page[offset]``/``page[size]``; events answer ``{"data", "links": {"next"},
"meta": {"page": {"after"}}}`` with an opaque ``page[cursor]``; DORA deployment
listings are POSTed JSON:API requests answered with at most ``limit`` events.
Wrong keys get Datadog's 403; throttling is a 429 with the ``X-RateLimit-*``
headers (``Reset`` in seconds).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Reply, Request

UTC = timezone.utc
API_KEY = "dd-api-SENTINEL-0123456789abcdef"
APP_KEY = "dd-app-SENTINEL-fedcba9876543210"


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def incident(
    ident: str,
    created: datetime,
    *,
    severity: str = "SEV-2",
    state: str = "resolved",
    resolved: datetime | None = None,
    impact_start: datetime | None = None,
    services: list[str] | None = None,
    teams: list[str] | None = None,
    title: str = "Checkout errors",
    public_id: int = 1,
    is_test: bool = False,
    extra_fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "severity": {"type": "dropdown", "value": severity},
        "state": {"type": "dropdown", "value": state},
        "services": {"type": "autocomplete", "value": services or ["payments-api"]},
        "teams": {"type": "autocomplete", "value": teams or ["payments"]},
        **(extra_fields or {}),
    }
    return {
        "id": ident,
        "type": "incidents",
        "attributes": {
            "created": ts(created),
            "modified": ts(resolved or created),
            "customer_impact_duration": 0,
            "customer_impact_start": ts(impact_start) if impact_start else None,
            "customer_impact_end": ts(resolved) if resolved and impact_start else None,
            "customer_impact_scope": None,
            "customer_impacted": impact_start is not None,
            "detected": ts(created),
            "fields": fields,
            "is_test": is_test,
            "public_id": public_id,
            "resolved": ts(resolved) if resolved else None,
            "severity": severity,
            "state": state,
            "title": title,
        },
        "relationships": {},
    }


def event(
    ident: str,
    at: datetime,
    *,
    status: str,
    tags: list[str],
    title: str,
    monitor_id: int | None = None,
    groups: list[str] | None = None,
) -> dict[str, Any]:
    inner: dict[str, Any] = {
        "status": status,
        "title": title,
        "timestamp": int(at.timestamp() * 1000),
        "tags": tags,
    }
    if monitor_id is not None:
        inner["monitor_id"] = monitor_id
        inner["monitor_groups"] = groups or []
        inner["monitor"] = {"id": monitor_id, "name": title, "tags": tags}
    return {
        "id": ident,
        "type": "event",
        "attributes": {
            "attributes": inner,
            "message": title,
            "tags": tags,
            "timestamp": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        },
    }


def dora_deployment(
    ident: str,
    finished: datetime,
    *,
    service: str = "payments-api",
    env: str = "production",
    team: str = "payments",
    sha: str = "66adc9350f2cc9b250b69abddab733dd55e1a588",
) -> dict[str, Any]:
    end = int(finished.timestamp()) * 1_000_000_000
    return {
        "id": ident,
        "type": "dora_deployment",
        "attributes": {
            "env": env,
            "service": service,
            "team": team,
            "started_at": end - 300 * 1_000_000_000,
            "finished_at": end,
            "git": {"commit_sha": sha, "repository_id": f"github.com/acme/{service}"},
            "version": "v1",
        },
    }


@dataclass
class FakeDatadog:
    server: FakeServer
    incidents: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    dora: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[str, Any]] = field(default_factory=list)
    """Every JSON answer served (path, body), for schema checks."""
    posted: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.route("/api/v2/incidents/search", self._guarded(self._search))
        self.server.route("/api/v2/events", self._guarded(self._events))
        self.server.route("/api/v2/dora/deployments", self._guarded(self._dora))

    @property
    def url(self) -> str:
        return self.server.url

    def _guarded(self, handler: Any) -> Any:
        def serve(request: Request, server: FakeServer) -> Reply:
            if (
                request.headers.get("dd-api-key") != API_KEY
                or request.headers.get("dd-application-key") != APP_KEY
            ):
                return Reply(403, {"errors": ["Forbidden"]})
            body = handler(request)
            self.answers.append((request.path, body))
            return Reply(200, body)

        return serve

    def _search(self, request: Request) -> dict[str, Any]:
        size = int(request.query.get("page[size]", 10))
        offset = int(request.query.get("page[offset]", 0))
        ordered = sorted(self.incidents, key=lambda i: i["attributes"]["created"], reverse=True)
        page = ordered[offset : offset + size]
        return {
            "data": {
                "type": "incidents_search_results",
                "attributes": {
                    "facets": {},
                    "incidents": [{"data": item} for item in page],
                    "total": len(ordered),
                },
            },
            "meta": {"pagination": {"offset": offset, "next_offset": offset + size, "size": size}},
        }

    def _events(self, request: Request) -> dict[str, Any]:
        query = request.query
        limit = int(query.get("page[limit]", 10))
        cursor = query.get("page[cursor]")
        start = int(json.loads(base64.b64decode(cursor))["at"]) if cursor else 0
        lower = datetime.fromisoformat(query["filter[from]"].replace("Z", "+00:00"))
        upper = datetime.fromisoformat(query["filter[to]"].replace("Z", "+00:00"))
        wanted = [
            e
            for e in self.events
            if lower <= _event_at(e) <= upper and _matches(e, query.get("filter[query]", ""))
        ]
        wanted.sort(key=_event_at)
        page = wanted[start : start + limit]
        body: dict[str, Any] = {"data": page, "meta": {"page": {}, "status": "done"}}
        if start + limit < len(wanted):
            after = base64.b64encode(json.dumps({"at": start + limit}).encode()).decode()
            body["meta"]["page"]["after"] = after
            body["links"] = {
                "next": f"{self.url}/api/v2/events?{urlencode({**query, 'page[cursor]': after})}"
            }
        return body

    def _dora(self, request: Request) -> dict[str, Any]:
        sent = json.loads(request.body)
        self.posted.append(sent)
        attrs = sent["data"]["attributes"]
        lower = _ns(attrs["from"])
        upper = _ns(attrs["to"])
        chosen = [d for d in self.dora if lower <= d["attributes"]["finished_at"] <= upper]
        chosen.sort(key=lambda d: d["attributes"]["finished_at"], reverse=True)
        return {"data": chosen[: int(attrs.get("limit", 10))]}


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 1_000_000_000


def _event_at(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["attributes"]["timestamp"].replace("Z", "+00:00"))


def _matches(item: dict[str, Any], query: str) -> bool:
    """Every ``key:value`` term of ``query`` is one of the event's tags (``source:``
    matches the event's kind: monitor alerts are ``source:alert``)."""
    tags = set(item["attributes"]["tags"])
    if "monitor_id" in item["attributes"]["attributes"]:
        tags.add("source:alert")
    return all(term in tags for term in query.split())


def throttled() -> Reply:
    """Datadog's 429: the ``X-RateLimit-*`` headers, ``Reset`` in seconds."""
    return Reply(
        429,
        {"errors": ["Too many requests"]},
        {
            "X-RateLimit-Limit": "600",
            "X-RateLimit-Period": "60",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "7",
            "X-RateLimit-Name": "incidents",
        },
    )
