"""A fake PagerDuty REST API v2 (``GET /incidents``), served on 127.0.0.1.

Shapes follow PagerDuty's "List incidents" reference: the ``incidents`` array
with ``limit``, ``offset``, ``more`` and ``total`` (null unless ``total=true``),
``ratelimit-*`` headers, and a 400 when ``offset + limit`` passes the cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

UTC = timezone.utc


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def incident(
    ident: str,
    created: datetime,
    *,
    service: tuple[str, str] = ("PSVC001", "payments-api"),
    status: str = "resolved",
    resolved: datetime | None = None,
    urgency: str = "high",
    priority: str | None = None,
    title: str = "Checkout errors",
    description: str | None = None,
    number: int = 1,
) -> dict[str, Any]:
    """One incident object as the list endpoint returns it."""
    sid, sname = service
    return {
        "id": ident,
        "type": "incident",
        "summary": f"[#{number}] {title}",
        "self": f"https://api.pagerduty.com/incidents/{ident}",
        "html_url": f"https://acme.pagerduty.com/incidents/{ident}",
        "incident_number": number,
        "title": title,
        "description": description if description is not None else title,
        "created_at": ts(created),
        "updated_at": ts(resolved or created),
        "status": status,
        "incident_key": f"key-{ident}",
        "service": {
            "id": sid,
            "type": "service_reference",
            "summary": sname,
            "self": f"https://api.pagerduty.com/services/{sid}",
            "html_url": f"https://acme.pagerduty.com/service-directory/{sid}",
        },
        "assignments": [],
        "assigned_via": "escalation_policy",
        "last_status_change_at": ts(resolved or created),
        "resolved_at": ts(resolved) if resolved is not None and status == "resolved" else None,
        "first_trigger_log_entry": {
            "id": f"R{ident}",
            "type": "trigger_log_entry_reference",
            "summary": "Triggered through the API",
        },
        "alert_counts": {"all": 1, "triggered": 0, "resolved": 1},
        "is_mergeable": True,
        "escalation_policy": {
            "id": "PEP0001",
            "type": "escalation_policy_reference",
            "summary": "Default",
        },
        "teams": [{"id": "PTEAM01", "type": "team_reference", "summary": "Payments"}],
        "pending_actions": [],
        "acknowledgements": [],
        "alert_grouping": None,
        "last_status_change_by": None,
        "priority": (
            {
                "id": f"PRIO{priority}",
                "type": "priority",
                "summary": priority,
                "name": priority,
                "self": f"https://api.pagerduty.com/priorities/PRIO{priority}",
            }
            if priority
            else None
        ),
        "resolve_reason": None,
        "conference_bridge": None,
        "incidents_responders": [],
        "responder_requests": [],
        "urgency": urgency,
    }


@dataclass
class FakePagerDuty:
    server: FakeServer
    incidents: list[dict[str, Any]] = field(default_factory=list)
    cap: int = 10_000
    remaining: int = 959

    def __post_init__(self) -> None:
        self.server.route("/incidents", self._incidents)

    @property
    def url(self) -> str:
        return self.server.url

    def _incidents(self, request: Request, server: FakeServer) -> Reply:
        query = request.query
        offset = int(query.get("offset", 0))
        limit = int(query.get("limit", 25))
        headers = {
            "ratelimit-limit": "960",
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": "30",
        }
        if offset + limit > self.cap:
            return Reply(
                400,
                {
                    "error": {
                        "message": "Invalid Input Provided",
                        "code": 2001,
                        "errors": [f"Offset must be less than {self.cap}."],
                    }
                },
                headers,
            )
        since = query.get("since", "")
        until = query.get("until", "9999")
        # ISO strings in one format compare as times.
        matching = sorted(
            (i for i in self.incidents if since <= i["created_at"] < until),
            key=lambda i: (i["created_at"], i["id"]),
        )
        page = matching[offset : offset + limit]
        body = {
            "incidents": page,
            "limit": limit,
            "offset": offset,
            "total": len(matching) if query.get("total") == "true" else None,
            "more": offset + limit < len(matching),
        }
        return Reply(200, body, headers)
