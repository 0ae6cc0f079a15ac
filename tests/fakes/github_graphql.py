"""A fake GitHub GraphQL API: executes queries with graphql-core against GitHub's
official public schema (npm ``@octokit/graphql-schema``, fetched by ``make test``
into ``tests/.octokit-graphql``) over in-memory repos kept in the REST shapes the
fake REST API serves (``tests/fakes/github.py``'s ``FakeRepo`` fits as it is).

Like GitHub, it
- answers 200 with ``errors`` (and no ``data``) for invalid documents, missing
  pagination boundaries on a connection whose items are asked for
  (``MISSING_PAGINATION_BOUNDARIES``; ``totalCount`` alone needs none), ``first``/``last``
  outside 1..100 (``EXCESSIVE_PAGINATION``) and more than 500,000 nodes
  (``MAX_NODE_LIMIT_EXCEEDED``);
- charges each query its point cost the way GitHub documents it: every
  connection counts the requests it could need (the product of the ``first``/
  ``last`` sizes of the connections around it), the sum divided by 100 and
  rounded, at least 1; ``rateLimit(dryRun: true)`` charges nothing;
- answers ``RATE_LIMITED`` (200, no ``data``) once a query costs more points than
  are left, with ``x-ratelimit-*`` headers on every answer;
- answers a missing repo with ``null`` and a ``NOT_FOUND`` error (partial data);
  :meth:`FakeGitHubGraphQL.break_repo` injects other partial errors;
- serves queued 502s first (:meth:`FakeGitHubGraphQL.fail_next`).

Plug it into a :class:`~tests.fakes.server.FakeServer` with
``server.route("/graphql", fake.handler)`` (it reads the POSTed JSON from the
request's ``body``), or call :meth:`FakeGitHubGraphQL.post` directly.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tests.fakes.github import FakeRepo
from tests.fakes.server import Reply

if TYPE_CHECKING:
    from graphql import (
        DocumentNode,
        FragmentDefinitionNode,
        GraphQLNamedType,
        GraphQLSchema,
        SelectionSetNode,
        ValueNode,
    )

    from tests.fakes.server import FakeServer, Request

UTC = timezone.utc
SCHEMA_FILE = (
    Path(__file__).resolve().parents[1] / ".octokit-graphql" / "package" / "schema.graphql"
)
NODE_LIMIT = 500_000
DEFAULT_LIMIT = 5000

_CHANGE_TYPES = {
    "added": "ADDED",
    "removed": "DELETED",
    "modified": "MODIFIED",
    "renamed": "RENAMED",
    "copied": "COPIED",
    "changed": "CHANGED",
    "unchanged": "MODIFIED",
}


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the schema ---------------------------------------------------------------------------


@cache
def github_schema() -> GraphQLSchema:
    """GitHub's public schema (built once per test session, ~2 s).

    GitHub's SDL breaks two rules newer graphql-core versions check (a duplicate
    field, deprecated implementations of non-deprecated interface fields); GitHub
    serves it as it is, so it is taken as valid."""
    from graphql import build_schema

    return build_schema(
        SCHEMA_FILE.read_text(encoding="utf-8"), assume_valid_sdl=True, assume_valid=True
    )


def require_schema() -> GraphQLSchema:
    """The schema; skips the test when it is missing (fails under ``CI=true``)."""
    import pytest

    pytest.importorskip("graphql")
    if not SCHEMA_FILE.is_file():
        reason = (
            f"{SCHEMA_FILE} is missing; `make test` fetches it (npm pack @octokit/graphql-schema)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return github_schema()


# --- data ---------------------------------------------------------------------------------


class RepoData(Protocol):
    """A repo in REST shapes (``tests.fakes.github.FakeRepo`` is one)."""

    name: str
    deployments: list[dict[str, Any]]
    statuses: dict[int, list[dict[str, Any]]]
    """Deployment id -> its statuses, newest first (as REST lists them)."""
    pulls: list[dict[str, Any]]
    commits: dict[int, list[dict[str, Any]]]
    files: dict[int, list[dict[str, Any]]]


FakeGraphRepo = FakeRepo
"""A repo's deployments and pull requests in the REST shapes: the REST fake's repo."""


# --- connections --------------------------------------------------------------------------


def _cursor(offset: int) -> str:
    return base64.b64encode(f"cursor:v2:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor.encode()).decode().rsplit(":", 1)[-1])
    except (ValueError, UnicodeDecodeError) as exc:
        from graphql import GraphQLError

        raise GraphQLError(f"`{cursor}` does not appear to be a valid cursor.") from exc


def connection(
    items: list[Any],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    **_order: Any,
) -> dict[str, Any]:
    """A Relay connection over ``items`` (cursors are offsets, as stable as the list;
    ``items`` come in the order asked for)."""
    start = _offset(after) + 1 if after else 0
    end = _offset(before) if before else len(items)
    positions = list(range(start, max(start, end)))
    if first is not None:
        positions = positions[:first]
    if last is not None:
        positions = positions[-last:] if last else []
    nodes = [items[i] for i in positions]
    return {
        "nodes": nodes,
        "edges": [{"node": items[i], "cursor": _cursor(i)} for i in positions],
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": bool(positions) and positions[-1] < len(items) - 1,
            "hasPreviousPage": bool(positions) and positions[0] > 0,
            "startCursor": _cursor(positions[0]) if positions else None,
            "endCursor": _cursor(positions[-1]) if positions else None,
        },
    }


def _ordered(
    items: list[dict[str, Any]], order: Mapping[str, Any] | None, keys: dict[str, str], default: str
) -> list[dict[str, Any]]:
    order = order or {"field": default, "direction": "ASC"}
    key = keys[str(order.get("field", default))]
    return sorted(
        items,
        key=lambda i: (i.get(key) or "", i.get("id") or i.get("number") or 0),
        reverse=order.get("direction") == "DESC",
    )


# --- cost ---------------------------------------------------------------------------------


class QueryRejected(Exception):
    """A query GitHub refuses before running it (an ``errors`` entry's type)."""

    def __init__(self, type_: str, message: str) -> None:
        super().__init__(message)
        self.type = type_


@dataclass
class Cost:
    requests: int = 0
    """The requests the connections could need (GitHub's aggregate)."""
    nodes: int = 0

    @property
    def points(self) -> int:
        return max(1, int(self.requests / 100 + 0.5))


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> Cost:
    """The points (and nodes) GitHub charges for the operation, by its documented rule;
    raises :class:`QueryRejected` for missing or excessive pagination, or too many nodes."""
    from graphql import (
        FieldNode,
        FragmentSpreadNode,
        InlineFragmentNode,
        OperationDefinitionNode,
        get_named_type,
        is_composite_type,
    )
    from graphql import FragmentDefinitionNode as FragmentNode

    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        raise QueryRejected("INVALID", "Exactly one operation must be chosen")
    operation = operations[0]
    fragments: dict[str, FragmentDefinitionNode] = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentNode)
    }
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if variables is not None and name in variables:
            values[name] = variables[name]
        elif definition.default_value is not None:
            values[name] = _literal(definition.default_value, {})
    root = schema.query_type
    assert root is not None
    cost = Cost()

    def included(node: Any) -> bool:
        for directive in node.directives or ():
            cond = {a.name.value: _literal(a.value, values) for a in directive.arguments or ()}
            if directive.name.value == "include" and not cond.get("if"):
                return False
            if directive.name.value == "skip" and cond.get("if"):
                return False
        return True

    def walk(selections: SelectionSetNode, parent: GraphQLNamedType, multiplier: int) -> None:
        for node in selections.selections:
            if not included(node):
                continue
            if isinstance(node, FieldNode):
                fields = getattr(parent, "fields", {})
                definition = fields.get(node.name.value)
                if definition is None or node.selection_set is None:
                    continue
                named = get_named_type(definition.type)
                inner = multiplier
                if named.name.endswith("Connection"):
                    args = {a.name.value: _literal(a.value, values) for a in node.arguments or ()}
                    sizes = [v for v in (args.get("first"), args.get("last")) if v is not None]
                    if not sizes and not _lists_items(node.selection_set):
                        cost.requests += multiplier  # only totalCount or pageInfo
                        continue
                    if not sizes:
                        raise QueryRejected(
                            "MISSING_PAGINATION_BOUNDARIES",
                            f"You must provide a `first` or `last` value to properly paginate "
                            f"the `{node.name.value}` connection.",
                        )
                    if any(not isinstance(s, int) or not 1 <= s <= 100 for s in sizes):
                        raise QueryRejected(
                            "EXCESSIVE_PAGINATION",
                            f"Requesting {max(sizes)} records on the `{node.name.value}` "
                            "connection exceeds the `first` limit of 100 records.",
                        )
                    cost.requests += multiplier
                    inner = multiplier * max(sizes)
                    cost.nodes += inner
                if is_composite_type(named):
                    walk(node.selection_set, named, inner)
            elif isinstance(node, InlineFragmentNode):
                target = (
                    schema.get_type(node.type_condition.name.value)
                    if node.type_condition
                    else parent
                )
                walk(node.selection_set, target or parent, multiplier)
            elif isinstance(node, FragmentSpreadNode):
                fragment = fragments[node.name.value]
                target = schema.get_type(fragment.type_condition.name.value)
                walk(fragment.selection_set, target or parent, multiplier)

    walk(operation.selection_set, root, 1)
    if cost.nodes > NODE_LIMIT:
        raise QueryRejected(
            "MAX_NODE_LIMIT_EXCEEDED",
            f"This query requests up to {cost.nodes:,} possible nodes which exceeds the "
            f"maximum limit of {NODE_LIMIT:,}.",
        )
    return cost


def _lists_items(selections: SelectionSetNode) -> bool:
    """Whether a connection's selection asks for its items (``nodes`` or ``edges``)."""
    from graphql import FieldNode

    return any(
        not isinstance(n, FieldNode) or n.name.value in ("nodes", "edges")
        for n in selections.selections
    )


def _literal(node: ValueNode, variables: Mapping[str, Any]) -> Any:
    from graphql import VariableNode, value_from_ast_untyped

    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    return value_from_ast_untyped(node, dict(variables))


# --- the fake -----------------------------------------------------------------------------


@dataclass
class Served:
    """One query the fake answered."""

    query: str
    variables: dict[str, Any]
    status: int
    points: int
    """Points charged (0 for dry runs, rejections and failures)."""
    errors: list[dict[str, Any]]


def _resolver(parent: Any, info: Any, **args: Any) -> Any:
    value = parent.get(info.field_name) if isinstance(parent, Mapping) else None
    return value(**args) if callable(value) else value


class FakeGitHubGraphQL:
    """GitHub's GraphQL endpoint over ``repos`` (name -> repo in REST shapes)."""

    def __init__(
        self,
        repos: Mapping[str, RepoData] | None = None,
        *,
        limit: int = DEFAULT_LIMIT,
        reset_at: datetime | None = None,
    ) -> None:
        self.repos: dict[str, Any] = repos if isinstance(repos, dict) else dict(repos or {})
        """Shared with the REST fake when it passes its own dict."""
        self.limit = limit
        self.used = 0
        self.reset_at = reset_at or datetime(2030, 1, 1, tzinfo=UTC)
        self.log: list[Served] = []
        self.faults: list[Reply] = []
        self.broken: dict[str, tuple[str, str]] = {}

    # --- setup --------------------------------------------------------------------------

    def repo(self, name: str) -> FakeGraphRepo:
        repo = FakeGraphRepo(name)
        self.repos[name] = repo
        return repo

    def fail_next(self, *statuses: int) -> None:
        """Answer the next queries with these HTTP statuses (502: GitHub's timeout)."""
        for status in statuses:
            body = f"<html><body><h1>{status} Bad Gateway</h1></body></html>".encode()
            self.faults.append(Reply(status, body, {"Content-Type": "text/html"}, etag=False))

    def break_repo(
        self, name: str, type_: str = "FORBIDDEN", message: str = "Resource not accessible"
    ) -> None:
        """Answer this repo with ``null`` and an error (the rest of the query still runs)."""
        self.broken[name] = (type_, message)

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def points(self) -> int:
        """Points charged so far."""
        return self.used

    # --- serving ------------------------------------------------------------------------

    def handler(self, request: Request, server: FakeServer) -> Reply:
        """A :class:`~tests.fakes.server.FakeServer` route handler for POST /graphql."""
        return self.graphql_reply(request)

    def graphql_reply(self, request: Any) -> Reply:
        """The reply to a request whose ``body`` holds the POSTed JSON."""
        raw = getattr(request, "body", None)
        if getattr(request, "method", "POST") != "POST":
            return Reply(404, {"message": "Not Found"}, etag=False)
        try:
            payload = json.loads(raw) if isinstance(raw, (bytes, str)) else raw
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return Reply(400, {"message": "Problems parsing JSON"}, etag=False)
        return self.post(payload["query"], payload.get("variables"), payload.get("operationName"))

    def post(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> Reply:
        """Answer one query as GitHub would."""
        variables = dict(variables or {})
        if self.faults:
            reply = self.faults.pop(0)
            self.log.append(Served(query, variables, reply.status, 0, []))
            return reply
        status, body, points = self._answer(query, variables, operation_name)
        errors = body.get("errors") or []
        self.log.append(Served(query, variables, status, points, errors))
        return Reply(status, body, self._headers(), etag=False)

    def _headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(int(self.reset_at.timestamp())),
            "x-ratelimit-resource": "graphql",
        }

    def _answer(
        self, query: str, variables: dict[str, Any], operation_name: str | None
    ) -> tuple[int, dict[str, Any], int]:
        from graphql import GraphQLError, execute_sync, parse, validate

        schema = github_schema()
        try:
            document = parse(query)
        except GraphQLError as exc:
            return 200, {"errors": [_error(exc)]}, 0
        problems = validate(schema, document)
        if problems:
            return 200, {"errors": [_error(e) for e in problems]}, 0
        try:
            cost = query_cost(schema, document, variables, operation_name)
        except QueryRejected as exc:
            return 200, {"errors": [{"type": exc.type, "message": str(exc)}]}, 0
        dry_run = _dry_run(document, variables)
        points = 0 if dry_run else cost.points
        if points > self.remaining:
            return (
                200,
                {
                    "errors": [
                        {
                            "type": "RATE_LIMITED",
                            "code": "graphql_rate_limit",
                            "message": "API rate limit already exceeded for user ID 1.",
                        }
                    ]
                },
                0,
            )
        self.used += points
        root = {
            "repository": lambda owner, name, followRenames=True: self._repository(
                f"{owner}/{name}"
            ),
            "search": lambda query, type, **page: self._search(query, type, **page),
            "rateLimit": lambda dryRun=False: {
                "cost": cost.points,
                "limit": self.limit,
                "remaining": self.remaining,
                "used": self.used,
                "nodeCount": cost.nodes,
                "resetAt": ts(self.reset_at),
            },
        }
        result = execute_sync(
            schema,
            document,
            root_value=root,
            variable_values=variables,
            operation_name=operation_name,
            field_resolver=_resolver,
        )
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [_error(e) for e in result.errors]
        return 200, body, points

    # --- resolvers ----------------------------------------------------------------------

    def _repository(self, name: str) -> dict[str, Any]:
        from graphql import GraphQLError

        if name in self.broken:
            type_, message = self.broken[name]
            raise GraphQLError(message, extensions={"type": type_})
        repo = self.repos.get(name)
        if repo is None:
            raise GraphQLError(
                f"Could not resolve to a Repository with the name '{name}'.",
                extensions={"type": "NOT_FOUND"},
            )
        return {
            "nameWithOwner": repo.name,
            "name": repo.name.rsplit("/", 1)[-1],
            "deployments": lambda **a: self._deployments(repo, **a),
            "defaultBranchRef": self._default_branch(repo),
            "pullRequests": lambda **a: self._pulls(repo, **a),
        }

    @staticmethod
    def _default_branch(repo: RepoData) -> dict[str, Any]:
        """The default branch as a ``Ref`` whose target commit has a ``history``."""
        branch = getattr(repo, "default_branch", "main")
        history = getattr(repo, "history", None)
        commits = history() if callable(history) else []

        def page(since: str | None = None, until: str | None = None, **rest: Any) -> Any:
            low = ts(datetime.fromisoformat(since.replace("Z", "+00:00"))) if since else ""
            high = ts(datetime.fromisoformat(until.replace("Z", "+00:00"))) if until else "~"
            nodes = [{"oid": sha, "committedDate": at} for sha, at in commits if low <= at <= high]
            return connection(nodes, **rest)

        head = commits[0][0] if commits else "0" * 40
        return {
            "name": branch,
            "prefix": "refs/heads/",
            "target": {"__typename": "Commit", "oid": head, "history": page},
        }

    def _search(self, query: str, type: str, **page: Any) -> dict[str, Any]:
        """Issue search, for the qualifiers the GitHub source uses: ``repo:``, ``is:pr``,
        ``is:merged`` and ``updated:>=``."""
        terms = dict(t.split(":", 1) for t in query.split() if ":" in t)
        repo = self.repos.get(terms.get("repo", ""))
        pulls = list(repo.pulls) if repo is not None and type == "ISSUE" else []
        if "is:merged" in query:
            pulls = [p for p in pulls if p.get("merged_at")]
        updated = terms.get("updated", "")
        if updated.startswith(">="):
            pulls = [p for p in pulls if p["updated_at"] >= updated[2:]]
        return {"issueCount": len(pulls), **connection([], **page)}

    def _deployments(
        self,
        repo: RepoData,
        environments: Iterable[str] | None = None,
        orderBy: Mapping[str, Any] | None = None,
        **page: Any,
    ) -> dict[str, Any]:
        items = [
            d for d in repo.deployments if environments is None or d["environment"] in environments
        ]
        items = _ordered(items, orderBy, {"CREATED_AT": "created_at"}, "CREATED_AT")
        return connection([self._deployment(repo, d) for d in items], **page)

    @staticmethod
    def _deployment(repo: RepoData, item: dict[str, Any]) -> dict[str, Any]:
        rest = list(reversed(repo.statuses.get(item["id"], [])))  # oldest first
        statuses = [
            {
                "id": f"DES_{s.get('id')}",
                "state": str(s["state"]).upper(),
                "environment": s.get("environment"),
                "description": s.get("description"),
                "createdAt": s["created_at"],
                "updatedAt": s["created_at"],
            }
            for s in rest
        ]
        return {
            "id": f"DE_{item['id']}",
            "databaseId": item["id"],
            "commitOid": item["sha"],
            "commit": {"oid": item["sha"]},
            "environment": item.get("environment"),
            "latestEnvironment": item.get("environment"),
            "originalEnvironment": item.get("environment"),
            "description": item.get("description") or None,
            "task": item.get("task"),
            "ref": {"name": item["ref"]} if item.get("ref") else None,
            "createdAt": item["created_at"],
            "updatedAt": item.get("updated_at") or item["created_at"],
            "latestStatus": statuses[-1] if statuses else None,
            "statuses": lambda **page: connection(statuses, **page),
        }

    def _pulls(
        self,
        repo: RepoData,
        states: Iterable[str] | None = None,
        orderBy: Mapping[str, Any] | None = None,
        baseRefName: str | None = None,
        **page: Any,
    ) -> dict[str, Any]:
        def state(pr: dict[str, Any]) -> str:
            if pr.get("merged_at"):
                return "MERGED"
            return "CLOSED" if pr.get("state") == "closed" else "OPEN"

        wanted = set(states) if states is not None else None
        items = [
            p
            for p in repo.pulls
            if (wanted is None or state(p) in wanted)
            and (baseRefName is None or (p.get("base") or {}).get("ref", "main") == baseRefName)
        ]
        keys = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at"}
        items = _ordered(items, orderBy, keys, "CREATED_AT")
        return connection([self._pull(repo, p, state(p)) for p in items], **page)

    @staticmethod
    def _pull(repo: RepoData, pr: dict[str, Any], state: str) -> dict[str, Any]:
        number = pr["number"]
        commits = [
            {
                "commit": {
                    "oid": c.get("sha"),
                    "authoredDate": c["commit"]["author"]["date"],
                    "committedDate": c["commit"]["committer"]["date"],
                    "message": c["commit"].get("message"),
                }
            }
            for c in repo.commits.get(number, [])
        ]
        files = [
            {
                "path": f["filename"],
                "changeType": _CHANGE_TYPES.get(str(f.get("status")), "MODIFIED"),
                "additions": f.get("additions", 0),
                "deletions": f.get("deletions", 0),
            }
            for f in repo.files.get(number, [])
        ]
        labels = [{"name": label["name"]} for label in pr.get("labels") or []]
        merge = pr.get("merge_commit_sha")
        return {
            "number": number,
            "title": pr.get("title"),
            "state": state,
            "merged": state == "MERGED",
            "mergedAt": pr.get("merged_at"),
            "updatedAt": pr.get("updated_at"),
            "createdAt": pr.get("created_at"),
            "closedAt": pr.get("closed_at"),
            "baseRefName": (pr.get("base") or {}).get("ref", "main"),
            "mergeCommit": {"oid": merge} if merge and state == "MERGED" else None,
            "labels": lambda **page: connection(labels, **page),
            "commits": lambda **page: connection(commits, **page),
            "files": lambda **page: connection(files, **page),
        }


def _dry_run(document: DocumentNode, variables: Mapping[str, Any]) -> bool:
    """Whether the query asks ``rateLimit(dryRun: true)``."""
    from graphql import FieldNode, OperationDefinitionNode

    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for node in definition.selection_set.selections:
            if isinstance(node, FieldNode) and node.name.value == "rateLimit":
                for arg in node.arguments or ():
                    if arg.name.value == "dryRun" and _literal(arg.value, variables):
                        return True
    return False


def _error(error: Any) -> dict[str, Any]:
    """A graphql-core error as GitHub formats it (``type`` at the top level)."""
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.pop("extensions", None) or {})
    if "type" in extensions:
        formatted["type"] = extensions.pop("type")
    if extensions:
        formatted["extensions"] = extensions
    return formatted
