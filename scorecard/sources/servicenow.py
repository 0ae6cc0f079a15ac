"""`kind = "servicenow"`: incidents (and, optionally, change requests as deployments)
from a ServiceNow instance's Table API.

Many enterprises declare incidents in ServiceNow rather than in a pager, so without
it their change failure rate and recovery time have no incidents at all.

- **Listing**: ``GET /api/now/table/incident`` with an encoded ``sysparm_query``
  (opened since the sync's lower bound, the configured ``assignment_groups`` or
  CMDB ``services``, plus an optional extra ``query``), ``sysparm_fields`` so
  the answer carries only what is read, ``sysparm_display_value=all`` (each
  field is ``{"value", "display_value"}``: a reference's name and a choice's
  label come with its raw value), ordered by ``opened_at`` and paged with
  ``sysparm_limit``/``sysparm_offset`` through the ``Link: rel="next"`` header
  the Table API sends.
- **Severity**: ``priority`` ``1``..``5`` (or its label, e.g. ``1 - Critical``)
  -> ``sev1``..``sev5``; ``severity_map`` overrides. Unknown values are counted
  and the incident skipped.
- **Status**: ``state`` New, In Progress and On Hold (1, 2, 3) are open;
  Resolved and Closed (6, 7) resolved, at ``resolved_at`` (else ``closed_at``);
  Canceled (8) is left out (counted). ``status_map`` (value or label -> ``open``,
  ``resolved`` or ``excluded``) overrides; unknown states are counted and skipped.
- **Team**: the assignment group's name through ``team_map`` (else a team of
  that name); the service is the ``business_service`` (else ``cmdb_ci``) name.
- **Explicit deployment links**: the incident's ``caused_by`` change number
  (ServiceNow's "Caused by Change"), else ``deployment_link_pattern`` over the
  number, short description and caused-by field.
- **Change requests** (``change_requests = true``): closed ``change_request``
  records implemented in the range become deployments with the change number as
  id (what ``caused_by`` names): ``close_code`` successful (or with issues) is a
  success, unsuccessful a failure, at ``work_end`` (else ``closed_at``).

Incremental like the other incident sources. Auth is HTTP Basic (``username``
and the token as password) or an OAuth access token (``auth = "oauth"``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from scorecard.options import OptionProblem, option
from scorecard.sources.incidents import (
    STATUS_WORDS,
    IncidentOptions,
    IncidentSource,
    Vocabulary,
    mapping_problems,
    named_teams,
    page_items,
)
from scorecard.sources.paginate import paginate_link
from scorecard.sources.records import Collected, parse_time
from scorecard.sources.registry import register

if TYPE_CHECKING:
    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient

PAGE_LIMIT: int = 200
INCIDENT_TABLE: Final = "api/now/table/incident"
CHANGE_TABLE: Final = "api/now/table/change_request"
INCIDENT_FIELDS: Final = (
    "sys_id,number,short_description,priority,state,opened_at,resolved_at,closed_at,"
    "assignment_group,business_service,cmdb_ci,caused_by"
)
CHANGE_FIELDS: Final = (
    "sys_id,number,short_description,state,close_code,start_date,end_date,work_start,"
    "work_end,closed_at,assignment_group,business_service,cmdb_ci"
)
PRIORITIES: Final = {
    **{str(n): f"sev{n}" for n in range(1, 6)},
    "1 - critical": "sev1",
    "2 - high": "sev2",
    "3 - moderate": "sev3",
    "4 - low": "sev4",
    "5 - planning": "sev5",
}
STATES: Final = {
    "1": "open",
    "2": "open",
    "3": "open",
    "6": "resolved",
    "7": "resolved",
    "8": "excluded",
    "new": "open",
    "in progress": "open",
    "on hold": "open",
    "resolved": "resolved",
    "closed": "resolved",
    "canceled": "excluded",
}
CLOSE_CODES: Final = {
    "successful": "success",
    "successful_issues": "success",
    "successful with issues": "success",
    "unsuccessful": "failure",
}


@dataclass(frozen=True)
class ServiceNowOptions(IncidentOptions):
    """Options of a `kind = "servicenow"` source."""

    api_url: str | None = option(
        None, check="url", required=True, example='"https://acme.service-now.com"'
    )
    """The instance's URL, e.g. `https://acme.service-now.com`."""
    auth: Literal["basic", "oauth"] = "basic"
    """`"basic"` (`username` and the token as password) or `"oauth"` (the token is an
    OAuth access token, sent as a bearer token)."""
    username: str | None = None
    """The user of `auth = "basic"`; it needs read access to the incident (and
    change_request) tables."""
    assignment_groups: tuple[str, ...] = ()
    """Only incidents assigned to these groups (names); with `services`, either matches."""
    services: tuple[str, ...] = ()
    """Only incidents of these CMDB business services (names)."""
    query: str | None = None
    """An extra encoded query ANDed to the listing, e.g. `active=true^category=software`."""
    team_map: Mapping[str, str] = option(default_factory=dict)
    """Assignment group name -> scorecard team (default: the team of the same name)."""
    status_map: Mapping[str, str] = option(default_factory=dict)
    """State value or label -> `open`, `resolved` or `excluded`, over the built-in table."""
    change_requests: bool = False
    """Also read closed change requests as deployments."""
    change_environment: str = "production"
    """The environment of the deployments read from change requests."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        if self.auth == "basic" and not self.username and (self.token or self.token_env):
            yield OptionProblem("username", "basic auth needs a username", 'e.g. "scorecard"')
        yield from mapping_problems("team_map", self.team_map, team_names, "team")
        yield from mapping_problems("status_map", self.status_map, STATUS_WORDS, "status")


def value(item: Mapping[str, Any], name: str) -> str | None:
    """A field's raw value (``sysparm_display_value=all`` or plain), as text."""
    raw = item.get(name)
    if isinstance(raw, dict):
        raw = raw.get("value")
    return str(raw) if raw not in (None, "") else None


def display(item: Mapping[str, Any], name: str) -> str | None:
    """A field's display value (a reference's name, a choice's label), else its value."""
    raw = item.get(name)
    if isinstance(raw, dict):
        shown = raw.get("display_value")
        return str(shown) if shown not in (None, "") else value(item, name)
    return str(raw) if raw not in (None, "") else None


def date_generate(at: datetime) -> str:
    """An encoded-query date: ``javascript:gs.dateGenerate('2024-03-01','12:00:00')``."""
    return f"javascript:gs.dateGenerate('{at:%Y-%m-%d}','{at:%H:%M:%S}')"


@register
class ServiceNowSource(IncidentSource[ServiceNowOptions]):
    """ServiceNow incidents by assignment group or service; change requests as deploys."""

    kind = "servicenow"
    Options = ServiceNowOptions

    def setup(self, config: Config | None) -> None:
        self.teams = named_teams(config, self.options.team_map)
        self.priorities = self.severity_vocabulary("ServiceNow priority", PRIORITIES)
        self.states = Vocabulary("ServiceNow state", {**STATES, **self.options.status_map})
        self.close_codes = Vocabulary("ServiceNow close code", CLOSE_CODES)

    def origin_headers(self, token: str | None) -> tuple[dict[str, str], list[str]]:
        """Basic auth (``username`` and the token) or the OAuth token as a bearer."""
        if not token:
            return {}, []
        if self.options.auth == "oauth":
            return {"Authorization": f"Bearer {token}"}, [token]
        pair = base64.b64encode(f"{self.options.username or ''}:{token}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}, [token, pair]

    def vocabularies(self) -> tuple[Vocabulary, ...]:
        return (self.states, self.priorities, self.close_codes)

    async def probe(self) -> str:
        """A light check for `scorecard config check`: one incident (and change) read."""
        client = self.client()
        tables = [INCIDENT_TABLE, *([CHANGE_TABLE] if self.options.change_requests else [])]
        async with client:
            for table in tables:
                await client.get(table, {"sysparm_limit": 1, "sysparm_fields": "sys_id"})
        return f"{' and '.join(t.rsplit('/', 1)[-1] for t in tables)} readable"

    def incident_query(self, lower: datetime) -> str:
        """The encoded query of the incident listing from ``lower`` on."""
        parts = [f"opened_at>={date_generate(lower)}"]
        groups = ",".join(self.options.assignment_groups)
        services = ",".join(self.options.services)
        if groups and services:
            parts.append(f"assignment_group.nameIN{groups}^ORbusiness_service.nameIN{services}")
        elif groups or services:
            field = "assignment_group" if groups else "business_service"
            parts.append(f"{field}.nameIN{groups or services}")
        if self.options.query:
            parts.append(self.options.query)
        return "^".join(parts) + "^ORDERBYopened_at"

    def change_query(self, lower: datetime) -> str:
        """The encoded query of closed change requests from ``lower`` on."""
        parts = [f"closed_at>={date_generate(lower)}", "state=3"]
        if self.options.services:
            parts.append(f"business_service.nameIN{','.join(self.options.services)}")
        return "^".join(parts) + "^ORDERBYclosed_at"

    async def read(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        await self.table(client, ctx, INCIDENT_TABLE, self.incident_query(lower), collected)
        if self.options.change_requests:
            before = len(collected.records.get("deployments", []))
            await self.table(client, ctx, CHANGE_TABLE, self.change_query(lower), collected)
            client.stats.count(
                "deployments", len(collected.records.get("deployments", [])) - before
            )

    async def table(
        self, client: HttpClient, ctx: FetchContext, path: str, query: str, collected: Collected
    ) -> None:
        """Read one table's listing for ``query`` into ``collected``."""
        incidents = path == INCIDENT_TABLE
        params = {
            "sysparm_query": query,
            "sysparm_fields": INCIDENT_FIELDS if incidents else CHANGE_FIELDS,
            "sysparm_display_value": "all",
            "sysparm_exclude_reference_link": "true",
            "sysparm_limit": PAGE_LIMIT,
        }
        what = "incidents" if incidents else "change requests"
        pages = 0
        async for page in paginate_link(client, path, params, conditional=False):
            pages += 1
            ctx.progress(f"{what} page {pages}")
            items = page_items(page, "result", collected, f"{what} page {pages}")
            if items is None:
                return
            for item in items:
                self.add(item, incidents, collected)

    def add(self, item: Any, incident: bool, collected: Collected) -> None:
        """Keep one record (or count why it is skipped or left out)."""
        if not isinstance(item, dict):
            collected.bad("record", "not an object")
            return
        where = f"{'incident' if incident else 'change'} {value(item, 'number') or '?'}"
        record = self.incident_record(item) if incident else self.change_record(item)
        if record is None:
            collected.excluded += 1
        elif isinstance(record, str):
            collected.bad(where, record)
        else:
            collected.add("incidents" if incident else "deployments", record, where)

    def incident_record(self, item: Mapping[str, Any]) -> dict[str, Any] | str | None:
        """A normalized incident; None when left out (canceled); a reason when skipped."""
        number = value(item, "number")
        if number is None:
            return "missing number"
        status = self.states.get(value(item, "state"), count=False) or self.states.get(
            display(item, "state")
        )
        if status is None:
            return f"unknown state {display(item, 'state')!r}"
        if status == "excluded":
            return None
        created = parse_time(value(item, "opened_at"))
        if created is None:
            return "missing or bad opened_at"
        severity = self.priorities.get(value(item, "priority"), count=False) or self.priorities.get(
            display(item, "priority")
        )
        if severity is None:
            return f"unknown priority {display(item, 'priority')!r}"
        resolved = None
        if status == "resolved":
            resolved = parse_time(value(item, "resolved_at")) or parse_time(
                value(item, "closed_at")
            )
        group = display(item, "assignment_group")
        return {
            "id": number,
            "source": self.name,
            "team": self.teams.get(group.casefold()) if group else None,
            "service": display(item, "business_service") or display(item, "cmdb_ci"),
            "title": display(item, "short_description"),
            "severity": severity,
            "created_at": created,
            "resolved_at": max(resolved, created) if resolved is not None else None,
            "deployment_id": self.deployment_of(item),
            "url": self.record_url("incident", value(item, "sys_id")),
        }

    def deployment_of(self, item: Mapping[str, Any]) -> str | None:
        """The change that caused the incident, else what the link pattern finds."""
        caused_by = display(item, "caused_by")
        if caused_by:
            return (self.linker.find(caused_by) if self.linker else None) or caused_by
        return self.linker.find(value(item, "number"), display(item, "short_description"))

    def change_record(self, item: Mapping[str, Any]) -> dict[str, Any] | str | None:
        """A deployment from a closed change request; None when it was not implemented."""
        number = value(item, "number")
        if number is None:
            return "missing number"
        code = value(item, "close_code")
        if code is None:
            return None  # closed without an outcome: nothing was deployed
        status = self.close_codes.get(code)
        if status is None:
            return f"unknown close code {code!r}"
        started = parse_time(value(item, "work_start")) or parse_time(value(item, "start_date"))
        finished = parse_time(value(item, "work_end")) or parse_time(value(item, "closed_at"))
        if finished is None:
            return "missing work_end and closed_at"
        group = display(item, "assignment_group")
        return {
            "id": number,
            "source": self.name,
            "team": self.teams.get(group.casefold()) if group else None,
            "service": display(item, "business_service") or display(item, "cmdb_ci"),
            "repo": None,
            "environment": self.options.change_environment,
            "status": status,
            "strategy": "unknown",
            "started_at": min(started or finished, finished),
            "finished_at": finished,
            "commit_sha": None,
            "is_rollback": False,
            "url": self.record_url("change_request", value(item, "sys_id")),
        }

    def record_url(self, table: str, sys_id: str | None) -> str | None:
        """The record's form in the instance's UI."""
        base = self.options.base_url
        if not sys_id or not base:
            return None
        return f"{base.rstrip('/')}/nav_to.do?uri={table}.do?sys_id={sys_id}"
