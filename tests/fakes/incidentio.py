"""A fake incident.io API (``/v2/incidents``, ``/v1/severities``), served on 127.0.0.1.

Shapes follow incident.io's API reference: incidents with ``incident_status``
(``category``), ``severity`` (``rank``), ``custom_field_entries`` and
``incident_timestamp_values``; cursor pagination with ``pagination_meta``
(``after``, ``page_size``, ``total_record_count``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

UTC = timezone.utc

SEVERITIES = [
    {"id": "01SEVMINOR", "name": "Minor", "rank": 1, "description": "Issues with low impact."},
    {"id": "01SEVMAJOR", "name": "Major", "rank": 2, "description": "Issues affecting customers."},
    {"id": "01SEVCRIT", "name": "Critical", "rank": 3, "description": "Full outage."},
]
STATUS_NAMES = {
    "triage": "Triage",
    "live": "Investigating",
    "paused": "Paused",
    "learning": "Post-incident",
    "closed": "Closed",
    "declined": "Declined",
    "merged": "Merged",
    "canceled": "Canceled",
}


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def select_entry(name: str, value: str) -> dict[str, Any]:
    field_id = f"01FIELD{name.upper().replace(' ', '')}"
    return {
        "custom_field": {
            "id": field_id,
            "name": name,
            "description": f"The {name.lower()} of this incident",
            "field_type": "single_select",
            "options": [],
        },
        "values": [
            {
                "value_option": {
                    "id": f"01OPT{value.upper()}",
                    "custom_field_id": field_id,
                    "sort_key": 10,
                    "value": value,
                }
            }
        ],
    }


def catalog_entry(name: str, value: str) -> dict[str, Any]:
    return {
        "custom_field": {
            "id": f"01FIELD{name.upper().replace(' ', '')}",
            "name": name,
            "description": "",
            "field_type": "single_select",
            "catalog_type_id": "01CATALOGSERVICE",
            "options": [],
        },
        "values": [
            {
                "value_catalog_entry": {
                    "id": f"01ENTRY{value.upper()}",
                    "name": value,
                    "aliases": [],
                    "external_id": value,
                }
            }
        ],
    }


def text_entry(name: str, value: str) -> dict[str, Any]:
    return {
        "custom_field": {
            "id": f"01FIELD{name.upper().replace(' ', '')}",
            "name": name,
            "description": "",
            "field_type": "text",
            "options": [],
        },
        "values": [{"value_text": value}],
    }


def incident(
    ident: str,
    created: datetime,
    *,
    category: str = "closed",
    severity: str | None = "Major",
    resolved: datetime | None = None,
    team: str | None = "Payments",
    service: str | None = "payments-api",
    name: str = "Checkout is failing",
    mode: str = "standard",
    extra_fields: list[dict[str, Any]] | None = None,
    number: int = 1,
) -> dict[str, Any]:
    sev = next((s for s in SEVERITIES if s["name"] == severity), None)
    if severity is not None and sev is None:
        sev = {"id": "01SEVOTHER", "name": severity, "rank": 99, "description": ""}
    entries = []
    if team is not None:
        entries.append(select_entry("Team", team))
    if service is not None:
        entries.append(catalog_entry("Affected service", service))
    entries += extra_fields or []
    stamps = [
        {
            "incident_timestamp": {"id": "01TSREPORTED", "name": "Reported at", "rank": 1},
            "value": {"value": ts(created)},
        }
    ]
    if resolved is not None:
        stamps.append(
            {
                "incident_timestamp": {"id": "01TSRESOLVED", "name": "Resolved at", "rank": 5},
                "value": {"value": ts(resolved)},
            }
        )
    return {
        "id": ident,
        "reference": f"INC-{number}",
        "name": name,
        "summary": f"Summary of {name}",
        "permalink": f"https://app.incident.io/acme/incidents/{number}",
        "created_at": ts(created),
        "updated_at": ts(resolved or created),
        "mode": mode,
        "visibility": "public",
        "incident_status": {
            "id": f"01STATUS{category.upper()}",
            "name": STATUS_NAMES.get(category, category.title()),
            "description": "",
            "category": category,
            "rank": 1,
            "created_at": ts(created),
            "updated_at": ts(created),
        },
        "severity": sev,
        "incident_type": {"id": "01TYPEDEFAULT", "name": "Default", "is_default": True},
        "custom_field_entries": entries,
        "incident_timestamp_values": stamps,
        "incident_role_assignments": [],
        "call_url": None,
        "slack_channel_id": f"C0{number}",
        "slack_channel_name": f"inc-{number}",
        "slack_team_id": "T02A1FSLE8J",
    }


@dataclass
class FakeIncidentIo:
    server: FakeServer
    incidents: list[dict[str, Any]] = field(default_factory=list)
    severities: list[dict[str, Any]] = field(default_factory=lambda: list(SEVERITIES))

    def __post_init__(self) -> None:
        self.server.route("/v2/incidents", self._incidents)
        self.server.route("/v1/severities", self._severities)

    @property
    def url(self) -> str:
        return self.server.url

    def _severities(self, request: Request, server: FakeServer) -> Reply:
        return Reply(200, {"severities": self.severities})

    def _incidents(self, request: Request, server: FakeServer) -> Reply:
        size = int(request.query.get("page_size", 25))
        since = request.query.get("created_at[gte]", "")
        matching = sorted(
            (i for i in self.incidents if i["created_at"][:10] >= since),
            key=lambda i: i["created_at"],
            reverse=True,
        )
        after = request.query.get("after")
        start = 0
        if after:
            start = next(k for k, i in enumerate(matching) if i["id"] == after) + 1
        page = matching[start : start + size]
        meta: dict[str, Any] = {"page_size": size, "total_record_count": len(matching)}
        if start + size < len(matching):
            meta["after"] = page[-1]["id"]
        return Reply(200, {"incidents": page, "pagination_meta": meta})
