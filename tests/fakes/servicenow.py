"""A fake ServiceNow Table API (``/api/now/table/{incident,change_request}``) on 127.0.0.1.

ServiceNow publishes no OpenAPI description of the Table API (its records are
instance-specific; see ``api-specs/servicenow/NOTICE.md``), so this follows the
documented behaviour: ``{"result": [...]}`` answers, encoded ``sysparm_query``
terms joined by ``^`` (``^OR`` binds to the term before it, ``ORDERBY``),
``sysparm_fields``, ``sysparm_display_value=all`` (each field a
``{"display_value", "value"}`` pair), ``sysparm_limit``/``sysparm_offset`` with
``Link`` (``first``, ``prev``, ``next``, ``last``) and ``X-Total-Count``
headers; a 401 ``{"error": {...}, "status": "failure"}`` without valid Basic
credentials; 429 with ``Retry-After`` and ``X-RateLimit-*`` when throttled.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Reply, Request

UTC = timezone.utc
USER = "scorecard"
PASSWORD = "sn-SENTINEL-password-0123456789"
PRIORITY_LABELS = {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low"}
STATE_LABELS = {"1": "New", "2": "In Progress", "6": "Resolved", "7": "Closed", "8": "Canceled"}
DATE_RE = re.compile(r"javascript:gs\.dateGenerate\('([\d-]+)','([\d:]+)'\)")

Field = tuple[str, str]
"""A field's raw value and its display value."""


def when(value: datetime | None) -> Field:
    text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else ""
    return text, text


def ref(sys_id: str, name: str) -> Field:
    return sys_id, name


def incident(
    number: str,
    opened: datetime,
    *,
    priority: str = "3",
    state: str = "6",
    resolved: datetime | None = None,
    group: str = "Payments Ops",
    service: str = "payments-api",
    caused_by: str = "",
    title: str = "Checkout errors",
) -> dict[str, Field]:
    return {
        "sys_id": (f"sys-{number}", f"sys-{number}"),
        "number": (number, number),
        "short_description": (title, title),
        "priority": (priority, PRIORITY_LABELS.get(priority, priority)),
        "state": (state, STATE_LABELS.get(state, state)),
        "opened_at": when(opened),
        "resolved_at": when(resolved),
        "closed_at": when(resolved),
        "assignment_group": ref(f"grp-{group}", group),
        "business_service": ref(f"svc-{service}", service),
        "cmdb_ci": ("", ""),
        "caused_by": ref(f"chg-{caused_by}", caused_by) if caused_by else ("", ""),
        "sys_updated_on": when(resolved or opened),
    }


def change(
    number: str,
    closed: datetime,
    *,
    close_code: str = "successful",
    service: str = "payments-api",
    group: str = "Payments Ops",
) -> dict[str, Field]:
    return {
        "sys_id": (f"sys-{number}", f"sys-{number}"),
        "number": (number, number),
        "short_description": ("Deploy", "Deploy"),
        "state": ("3", "Closed"),
        "close_code": (close_code, close_code.replace("_", " ").title()),
        "start_date": when(closed),
        "end_date": when(closed),
        "work_start": when(closed.replace(minute=0) if closed.minute else closed),
        "work_end": when(closed),
        "closed_at": when(closed),
        "assignment_group": ref(f"grp-{group}", group),
        "business_service": ref(f"svc-{service}", service),
        "cmdb_ci": ("", ""),
    }


def _term_matches(record: dict[str, Field], term: str) -> bool:
    for alternative in term.split("^OR"):
        if ">=" in alternative:
            name, _, raw = alternative.partition(">=")
            found = DATE_RE.fullmatch(raw)
            bound = f"{found.group(1)} {found.group(2)}" if found else raw
            if record.get(name, ("", ""))[0] >= bound:
                return True
        elif ".nameIN" in alternative:
            name, _, names = alternative.partition(".nameIN")
            if record.get(name, ("", ""))[1] in names.split(","):
                return True
        elif "=" in alternative:
            name, _, value = alternative.partition("=")
            if record.get(name, ("", ""))[0] == value:
                return True
    return False


def select(records: list[dict[str, Field]], query: str) -> list[dict[str, Field]]:
    """The records an encoded query selects, in its ``ORDERBY`` order."""
    terms: list[str] = []
    order = None
    for part in re.split(r"\^(?!OR(?!DERBY))", query):
        if part.startswith("ORDERBY"):
            order = part.removeprefix("ORDERBY")
        elif part:
            terms.append(part)
    chosen = [r for r in records if all(_term_matches(r, t) for t in terms)]
    if order:
        chosen.sort(key=lambda r: r.get(order, ("", ""))[0])
    return chosen


@dataclass
class FakeServiceNow:
    server: FakeServer
    incidents: list[dict[str, Field]] = field(default_factory=list)
    changes: list[dict[str, Field]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.route("/api/now/table/incident", lambda r, s: self._table(r, self.incidents))
        self.server.route(
            "/api/now/table/change_request", lambda r, s: self._table(r, self.changes)
        )

    @property
    def url(self) -> str:
        return self.server.url

    def _table(self, request: Request, records: list[dict[str, Field]]) -> Reply:
        expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            body = {
                "error": {
                    "message": "User Not Authenticated",
                    "detail": "Required to provide Auth information",
                },
                "status": "failure",
            }
            return Reply(401, body)
        query = request.query
        chosen = select(records, query.get("sysparm_query", ""))
        limit = int(query.get("sysparm_limit", 10000))
        offset = int(query.get("sysparm_offset", 0))
        fields = [f for f in query.get("sysparm_fields", "").split(",") if f]
        page = [self._shown(r, fields, query) for r in chosen[offset : offset + limit]]
        return Reply(200, {"result": page}, self._headers(request, len(chosen), offset, limit))

    @staticmethod
    def _shown(record: dict[str, Field], fields: list[str], query: dict[str, str]) -> Any:
        names = fields or list(record)
        mode = query.get("sysparm_display_value", "false")
        out: dict[str, Any] = {}
        for name in names:
            value, shown = record.get(name, ("", ""))
            if mode == "all":
                out[name] = {"display_value": shown, "value": value}
            else:
                out[name] = shown if mode == "true" else value
        return out

    def _headers(self, request: Request, total: int, offset: int, limit: int) -> dict[str, str]:
        def target(at: int) -> str:
            query = {**request.query, "sysparm_offset": str(at), "sysparm_limit": str(limit)}
            return f"{self.url}{request.path}?{urlencode(query)}"

        links = [f'<{target(0)}>;rel="first"']
        if offset > 0:
            links.append(f'<{target(max(0, offset - limit))}>;rel="prev"')
        if offset + limit < total:
            links.append(f'<{target(offset + limit)}>;rel="next"')
        last = max(0, (total - 1) // limit * limit)
        links.append(f'<{target(last)}>;rel="last"')
        return {"Link": ",".join(links), "X-Total-Count": str(total)}


def throttled(reset_epoch: int) -> Reply:
    """ServiceNow's rate-limit answer (a REST API rate limit rule)."""
    body = {
        "error": {"message": "Rate limit exceeded", "detail": "Too many requests"},
        "status": "failure",
    }
    return Reply(
        429,
        body,
        {
            "Retry-After": "3",
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Reset": str(reset_epoch),
            "X-RateLimit-Rule": "scorecard",
        },
    )
