"""GitHub's GraphQL API for deployments and merged pull requests (pure; SPEC §14).

Why GraphQL: over REST, every deployment's statuses and every merged pull
request's commits (and files) are a request of their own, so a realistic repo's
first 180-day sync costs ~570 requests, 96% of them one per item; a 100-repo
org needs hours of a 5,000 requests/hour token before a lead sees a number.
GraphQL charges *points* per query, computed from the ``first``/``last`` sizes
of the connections asked for (the number of requests they could need, summed
and divided by 100, at least 1): one page of 100 deployments *with* up to 100
statuses each costs 1 point, one page of 100 merged pull requests with their
labels and first commit 2 points (3 with their files). REST stays where it is
cheaper: Actions runs, and conditional re-syncs answered 304 (free).

This module holds the documents (module constants and builders for several
repos per query), the reading of answers (errors, cost) and, re-exported from
:mod:`scorecard.sources.github_graphql_records`, the pure functions turning each
answer's ``data`` into the very records the REST path produces (through the
public functions of :mod:`scorecard.sources.github_records`) with the next
cursor. Nothing here talks to the network.

**Endpoint**: :func:`graphql_url` (``https://api.github.com`` →
``https://api.github.com/graphql``; Enterprise Server ``https://HOST/api/v3`` →
``https://HOST/api/graphql``). Send ``POST {"query": ..., "variables": ...}``.

**Answers and errors** (read with :func:`read_answer`; GitHub answers 200 even
for most failures, so the status code alone says little):

- ``data`` without ``errors``: use it.
- ``errors`` *with* ``data`` (partial): GitHub resolved what it could; a field
  that failed is ``null`` and its error's ``path`` names it (for a batch, the
  alias of the repo: :meth:`Answer.failed_aliases`). Keep the rest; for the
  failed repos keep their old bookmarks (do not advance them), note the
  problem and mark the sync incomplete. ``NOT_FOUND`` on a repo is that repo's
  configuration problem (like REST's 404), not a reason to retry.
- ``errors`` without ``data``: the whole query failed. ``RATE_LIMITED`` (also
  spelled ``RATE_LIMIT``, code ``graphql_rate_limit``;
  :attr:`Answer.rate_limited`): wait until the reset (``x-ratelimit-reset``
  header, else the last known ``rateLimit.resetAt``) within the source's
  ``max_wait_s`` exactly like REST's primary limit, then send the same query
  again; past ``max_wait_s`` it is ``RateLimitExhausted``. Other errors
  (syntax, ``MAX_NODE_LIMIT_EXCEEDED``, ...) are bugs or configuration: a
  source error, not retried.
- HTTP 502/503/504 (GitHub's answer to queries that time out) and secondary
  rate limits (403/429 with ``retry-after``) are handled like REST's by the
  HTTP client; a 502 retried with a smaller ``first`` is GitHub's own advice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from scorecard.sources.github_graphql_records import (
    FILES_PER_PULL,
    DeploymentPage,
    PullPage,
    deployment_items,
    deployment_page,
    pull_items,
    pull_page,
)
from scorecard.sources.records import iso, parse_time

__all__ = [
    "COUNTS_FIELDS",
    "DEPLOYMENTS_QUERY",
    "DEPLOYMENT_FIELDS",
    "FILES_PER_PULL",
    "HISTORY_FIELDS",
    "MAX_REPOS_PER_QUERY",
    "PAGE_SIZE",
    "PULLS_QUERY",
    "PULL_FIELDS",
    "RATE_LIMIT_FIELDS",
    "RATE_LIMIT_QUERY",
    "Answer",
    "DeploymentPage",
    "PullPage",
    "RateLimit",
    "RepoCounts",
    "RepoRef",
    "counts_query",
    "counts_variables",
    "deployment_items",
    "deployment_page",
    "deployments_query",
    "graphql_url",
    "history_page",
    "page_points",
    "plan_points",
    "pull_items",
    "pull_page",
    "pulls_query",
    "rate_limit",
    "read_answer",
    "read_counts",
    "repo_alias",
    "repo_variables",
]

PAGE_SIZE: Final = 100
"""GitHub's largest ``first``; the cost of a page does not depend on how full it is."""
STATUSES_PER_DEPLOYMENT: Final = 100
"""As many as REST's one page of statuses: inside a page of deployments this costs no
extra points (one status listing per deployment either way)."""
LABELS_PER_PULL: Final = 100
MAX_REPOS_PER_QUERY: Final = 20
"""Repos per batched query: 20 pages of deployments with statuses stay far below
GitHub's 500,000-node limit and keep answers small enough not to time out."""

# --- documents ----------------------------------------------------------------------------

RATE_LIMIT_FIELDS: Final = "rateLimit { cost remaining resetAt limit used }"
"""What every document asks besides its data: the points it cost and what is left."""

DEPLOYMENT_FIELDS: Final = f"""
fragment DeploymentFields on DeploymentConnection {{
  pageInfo {{ hasNextPage endCursor }}
  nodes {{
    databaseId
    environment
    description
    task
    ref {{ name }}
    commitOid
    createdAt
    updatedAt
    statuses(last: {STATUSES_PER_DEPLOYMENT}) {{
      nodes {{ state environment createdAt }}
    }}
  }}
}}
"""
"""A page of deployments, newest first: each with its statuses (the latest decides;
``inactive`` is looked through, as REST's records do)."""

PULL_FIELDS: Final = f"""
fragment PullFields on PullRequestConnection {{
  pageInfo {{ hasNextPage endCursor }}
  nodes {{
    number
    title
    mergedAt
    updatedAt
    baseRefName
    mergeCommit {{ oid }}
    labels(first: {LABELS_PER_PULL}) {{ nodes {{ name }} }}
    commits(first: 1) {{ nodes {{ commit {{ authoredDate committedDate }} }} }}
    files(first: {FILES_PER_PULL}) @include(if: $withFiles) {{
      pageInfo {{ hasNextPage }}
      nodes {{ path changeType }}
    }}
  }}
}}
"""
"""A page of merged pull requests, most recently updated first, with labels, the
first commit's dates and (only with ``$withFiles``) changed paths."""

COUNTS_FIELDS: Final = """
fragment CountFields on Repository {
  deployments { totalCount }
  oldestDeployment: deployments(first: 1, orderBy: {field: CREATED_AT, direction: ASC}) {
    nodes { createdAt }
  }
  pullRequests(states: [MERGED]) { totalCount }
}
"""
"""All-time totals of a repo and when its first deployment was made, for ``sync --plan``
estimates (the share of deployments in a range is guessed from the average rate)."""


def _repo_block(alias: str, n: int | None, body: str) -> str:
    suffix = "" if n is None else str(n)
    return f"  {alias}: repository(owner: $owner{suffix}, name: $name{suffix}) {{\n{body}  }}\n"


def _deployments_body(suffix: str) -> str:
    return (
        f"    deployments(first: $first{suffix}, after: $after{suffix},"
        f" environments: $environments{suffix},"
        " orderBy: {field: CREATED_AT, direction: DESC}) { ...DeploymentFields }\n"
    )


def _pulls_body(suffix: str) -> str:
    return (
        f"    pullRequests(first: $first{suffix}, after: $after{suffix}, states: [MERGED],"
        " orderBy: {field: UPDATED_AT, direction: DESC}) { ...PullFields }\n"
    )


def _declare(n: int | None, extra: str = "") -> str:
    suffix = "" if n is None else str(n)
    return (
        f"$owner{suffix}: String!, $name{suffix}: String!, $first{suffix}: Int!,"
        f" $after{suffix}: String{extra}"
    )


def repo_alias(index: int) -> str:
    """The alias of the ``index``-th repo in a batched document (``r0``, ``r1``, ...)."""
    return f"r{index}"


def deployments_query(repos: int) -> str:
    """One document reading a page of deployments of each of ``repos`` repos.

    Variables per repo ``i`` (see :func:`repo_variables`): ``owner{i}``, ``name{i}``,
    ``first{i}``, ``after{i}`` (null for the first page) and ``environments{i}``
    (null for all; GitHub matches names exactly, so pass null when environments
    are matched case-insensitively or by glob, as canary environments are)."""
    _check_count(repos)
    declared = ", ".join(_declare(i, f", $environments{i}: [String!]") for i in range(repos))
    blocks = "".join(_repo_block(repo_alias(i), i, _deployments_body(str(i))) for i in range(repos))
    return (
        f"query Deployments({declared}) {{\n{blocks}  {RATE_LIMIT_FIELDS}\n}}\n{DEPLOYMENT_FIELDS}"
    )


def pulls_query(repos: int) -> str:
    """One document reading a page of merged pull requests of each of ``repos`` repos.

    Variables per repo as for :func:`deployments_query` (no environments), plus one
    ``withFiles`` for all: only a change class matching on paths needs files."""
    _check_count(repos)
    declared = ", ".join(_declare(i) for i in range(repos))
    blocks = "".join(_repo_block(repo_alias(i), i, _pulls_body(str(i))) for i in range(repos))
    return (
        f"query MergedPulls({declared}, $withFiles: Boolean!) {{\n{blocks}"
        f"  {RATE_LIMIT_FIELDS}\n}}\n{PULL_FIELDS}"
    )


def counts_query(repos: int, *, since: bool = False, dry_run: bool = False) -> str:
    """Totals of deployments and merged pull requests of each repo (``sync --plan``);
    with ``since``, also the pull requests merged and updated since then (a search per
    repo, variable ``merged{i}``: see :func:`counts_variables`). ``dry_run`` asks
    GitHub what the query would cost without running it."""
    _check_count(repos)
    declared = ", ".join(
        f"$owner{i}: String!, $name{i}: String!" + (f", $merged{i}: String!" if since else "")
        for i in range(repos)
    )
    blocks = "".join(_repo_block(repo_alias(i), i, "    ...CountFields\n") for i in range(repos))
    if since:
        blocks += "".join(
            f"  {_search_alias(i)}: search(query: $merged{i}, type: ISSUE) {{ issueCount }}\n"
            for i in range(repos)
        )
    limit = RATE_LIMIT_FIELDS.replace("rateLimit", "rateLimit(dryRun: true)", 1)
    return (
        f"query Counts({declared}) {{\n{blocks}  {limit if dry_run else RATE_LIMIT_FIELDS}\n}}\n"
        f"{COUNTS_FIELDS}"
    )


def _search_alias(index: int) -> str:
    return f"m{index}"


def counts_variables(repos: Sequence[str], since: datetime | None = None) -> dict[str, Any]:
    """The variables of :func:`counts_query` for ``repos`` (``since`` as there)."""
    out: dict[str, Any] = {}
    for i, repo in enumerate(repos):
        owner, _, name = repo.partition("/")
        out[f"owner{i}"] = owner
        out[f"name{i}"] = name
        if since is not None:
            out[f"merged{i}"] = f"repo:{repo} is:pr is:merged updated:>={iso(since)}"
    return out


@dataclass(frozen=True)
class RepoCounts:
    """What :func:`counts_query` learned of one repo (None: not in the answer)."""

    deployments: int | None
    """All deployments, every environment, all time."""
    merged: int | None
    """All merged pull requests."""
    merged_since: int | None = None
    """Merged pull requests updated since the ``since`` asked for."""
    oldest_deployment: datetime | None = None
    """When the repo's first deployment was created."""


def read_counts(data: Mapping[str, Any] | None, repos: Sequence[str]) -> dict[str, RepoCounts]:
    """Per repo (in the order the query was built for) its counts."""

    def total(obj: Any, key: str) -> int | None:
        conn = obj.get(key) if isinstance(obj, dict) else None
        value = conn.get("totalCount") if isinstance(conn, dict) else None
        return value if isinstance(value, int) else None

    out: dict[str, RepoCounts] = {}
    for i, repo in enumerate(repos):
        node = data.get(repo_alias(i)) if isinstance(data, Mapping) else None
        found = data.get(_search_alias(i)) if isinstance(data, Mapping) else None
        since = found.get("issueCount") if isinstance(found, dict) else None
        oldest = node.get("oldestDeployment") if isinstance(node, dict) else None
        nodes = oldest.get("nodes") if isinstance(oldest, dict) else None
        first = nodes[0] if isinstance(nodes, list) and nodes else None
        out[repo] = RepoCounts(
            total(node, "deployments"),
            total(node, "pullRequests"),
            since if isinstance(since, int) else None,
            parse_time(first.get("createdAt")) if isinstance(first, dict) else None,
        )
    return out


def page_points(kind: str, *, first: int = PAGE_SIZE, with_files: bool = False) -> int:
    """The points GitHub charges one page of ``first`` items of one repo: ``kind``
    ``"deployments"`` (each with its statuses) or ``"pulls"`` (labels, first commit,
    files when asked); a batch of N repos costs about N times this (before rounding)."""
    return _points(_page_requests(kind, first, with_files))


def _page_requests(kind: str, first: int, with_files: bool) -> int:
    if kind == "deployments":
        return 1 + first  # the listing, and one status listing per deployment
    if kind == "pulls":
        return 1 + first * (3 if with_files else 2)  # labels, commits (and files) per PR
    raise ValueError(f"unknown kind {kind!r}")


def _points(requests: int) -> int:
    return max(1, int(requests / 100 + 0.5))


def plan_points(deployments: int, pulls: int, *, with_files: bool = False) -> int:
    """The points of reading ``deployments`` deployments and ``pulls`` merged pull
    requests of one repo in full pages (an empty listing still costs its page)."""
    pages = max(1, -(-deployments // PAGE_SIZE)), max(1, -(-pulls // PAGE_SIZE))
    return pages[0] * page_points("deployments") + pages[1] * page_points(
        "pulls", with_files=with_files
    )


def _check_count(repos: int) -> None:
    if not 1 <= repos <= MAX_REPOS_PER_QUERY:
        raise ValueError(f"between 1 and {MAX_REPOS_PER_QUERY} repos per query, not {repos}")


def _single_repo_query(name: str, extra: str, body: str, fields: str) -> str:
    """A document reading one page of one repo, under ``repository``."""
    return (
        f"query {name}({_declare(None, extra)}) {{\n"
        + _repo_block("repository", None, body)
        + f"  {RATE_LIMIT_FIELDS}\n}}\n"
        + fields
    )


HISTORY_FIELDS: Final = """
fragment HistoryFields on Ref {
  name
  target {
    ... on Commit {
      history(first: 100, after: $historyAfter, since: $historySince, until: $historyUntil) {
        pageInfo { hasNextPage endCursor }
        nodes { oid }
      }
    }
  }
}
"""
"""A page of the default branch's commits (newest first, only their ids): what commit
containment needs to know which deployment shipped which merge. Asked beside a page
of deployments it costs no extra point."""

_HISTORY_VARIABLES: Final = (
    ", $environments: [String!], $withDeployments: Boolean = true,"
    " $withHistory: Boolean = false, $historyAfter: String, $historySince: GitTimestamp,"
    " $historyUntil: GitTimestamp"
)

DEPLOYMENTS_QUERY: Final = _single_repo_query(
    "RepoDeployments",
    _HISTORY_VARIABLES,
    _deployments_body("").replace(
        "{ ...DeploymentFields }", "@include(if: $withDeployments) { ...DeploymentFields }"
    )
    + "    defaultBranchRef @include(if: $withHistory) { ...HistoryFields }\n",
    DEPLOYMENT_FIELDS + HISTORY_FIELDS,
)
"""A page of one repo's deployments (variables ``owner``, ``name``, ``first``,
``after``, ``environments``) and, with ``withHistory``, a page of its default
branch's commits (``historyAfter``, ``historySince``; ``withDeployments`` false when
only the history has pages left); the answer's repo is under ``repository``."""

PULLS_QUERY: Final = _single_repo_query(
    "RepoMergedPulls", ", $withFiles: Boolean!", _pulls_body(""), PULL_FIELDS
)
"""A page of one repo's merged pull requests (variables ``owner``, ``name``,
``first``, ``after``, ``withFiles``); the answer's repo is under ``repository``."""

RATE_LIMIT_QUERY: Final = f"query RateLimit {{ {RATE_LIMIT_FIELDS} }}"
"""The token's GraphQL budget alone (a query like any other: at least 1 point; REST's
``GET /rate_limit`` gives the same under ``resources.graphql`` without spending any)."""


@dataclass(frozen=True)
class RepoRef:
    """A repo in a batched query and where its page starts."""

    repo: str
    """``owner/name``."""
    after: str | None = None
    first: int = PAGE_SIZE
    environments: Sequence[str] | None = None


def repo_variables(
    refs: Sequence[RepoRef], *, single: bool = False, with_files: bool | None = None
) -> dict[str, Any]:
    """The variables of a batched document for ``refs`` (in alias order), or of the
    single-repo documents when ``single`` (one ref); ``with_files`` sets the pull
    request documents' ``withFiles``."""
    if single and len(refs) != 1:
        raise ValueError("a single-repo document takes exactly one repo")
    out: dict[str, Any] = {}
    for i, ref in enumerate(refs):
        suffix = "" if single else str(i)
        owner, _, name = ref.repo.partition("/")
        out[f"owner{suffix}"] = owner
        out[f"name{suffix}"] = name
        out[f"first{suffix}"] = ref.first
        out[f"after{suffix}"] = ref.after
        if ref.environments:
            out[f"environments{suffix}"] = list(ref.environments)
    if with_files is not None:
        out["withFiles"] = with_files
    return out


# --- endpoint -----------------------------------------------------------------------------


def graphql_url(api_url: str) -> str:
    """The GraphQL endpoint beside a REST ``api_url``.

    ``https://api.github.com`` → ``https://api.github.com/graphql``; Enterprise
    Server ``https://HOST/api/v3`` → ``https://HOST/api/graphql``; any other base
    (a proxy, a test server) gets ``/graphql`` appended."""
    parts = urlsplit(api_url.strip())
    path = parts.path.rstrip("/")
    if re.search(r"/api/v3$", path, re.IGNORECASE):
        path = path[: -len("/v3")] + "/graphql"
    else:
        path += "/graphql"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


# --- answers ------------------------------------------------------------------------------

RATE_LIMIT_TYPES: Final = frozenset({"RATE_LIMITED", "RATE_LIMIT"})


@dataclass(frozen=True)
class RateLimit:
    """``rateLimit`` of an answer: what the query cost and the budget left."""

    cost: int
    remaining: int
    limit: int | None
    reset_at: datetime | None
    used: int | None = None


@dataclass(frozen=True)
class Answer:
    """A GraphQL answer's parts (see the module docstring for how to treat them)."""

    data: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.errors

    @property
    def partial(self) -> bool:
        """Some fields failed (``errors``), the others are in ``data``."""
        return self.data is not None and bool(self.errors)

    @property
    def failed(self) -> bool:
        """Nothing came back: the whole query failed."""
        return self.data is None

    @property
    def rate_limited(self) -> bool:
        return any(
            e.get("type") in RATE_LIMIT_TYPES or e.get("code") == "graphql_rate_limit"
            for e in self.errors
        )

    def error_types(self) -> set[str]:
        return {str(e.get("type")) for e in self.errors if e.get("type")}

    def failed_aliases(self) -> set[str]:
        """The top-level fields (repo aliases) an error names by its ``path``."""
        out: set[str] = set()
        for error in self.errors:
            path = error.get("path")
            if isinstance(path, list) and path and isinstance(path[0], str):
                out.add(path[0])
        return out

    def message(self) -> str:
        """The errors' messages, for a problem line (vendor text: show it escaped)."""
        texts = [str(e.get("message") or e.get("type") or "error") for e in self.errors]
        return "; ".join(texts) if texts else "no data"

    @property
    def rate_limit(self) -> RateLimit | None:
        return rate_limit(self.data)


def read_answer(body: Any) -> Answer:
    """An answer's ``data`` and ``errors``; a body that is not a GraphQL answer reads
    as failed with one ``MALFORMED`` error (never raises)."""
    if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
        return Answer(None, [{"type": "MALFORMED", "message": "not a GraphQL answer"}])
    data = body.get("data")
    raw = body.get("errors")
    errors = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
    if raw is not None and not isinstance(raw, list):
        errors = [{"type": "MALFORMED", "message": "malformed errors"}]
    return Answer(data if isinstance(data, dict) else None, errors)


def rate_limit(data: Mapping[str, Any] | None) -> RateLimit | None:
    """``data.rateLimit`` (None when the answer has none)."""
    raw = data.get("rateLimit") if isinstance(data, Mapping) else None
    if not isinstance(raw, dict):
        return None
    cost, remaining = raw.get("cost"), raw.get("remaining")
    if not isinstance(cost, int) or not isinstance(remaining, int):
        return None
    limit, used = raw.get("limit"), raw.get("used")
    return RateLimit(
        cost=cost,
        remaining=remaining,
        limit=limit if isinstance(limit, int) else None,
        reset_at=parse_time(raw.get("resetAt")),
        used=used if isinstance(used, int) else None,
    )


def history_page(repository: Any) -> tuple[str | None, list[str], str | None]:
    """From an answer's ``repository``: the default branch's name, a page of its
    commit ids (newest first) and the cursor of the next page (None when done)."""
    ref = repository.get("defaultBranchRef") if isinstance(repository, dict) else None
    if not isinstance(ref, dict):
        return None, [], None
    target = ref.get("target")
    history = target.get("history") if isinstance(target, dict) else None
    nodes = history.get("nodes") if isinstance(history, dict) else None
    oids = [
        str(n["oid"]) for n in nodes or [] if isinstance(n, dict) and isinstance(n.get("oid"), str)
    ]
    info = history.get("pageInfo") if isinstance(history, dict) else None
    more = isinstance(info, dict) and bool(info.get("hasNextPage"))
    cursor = info.get("endCursor") if more and isinstance(info, dict) else None
    name = ref.get("name")
    return (
        name if isinstance(name, str) else None,
        oids,
        cursor if isinstance(cursor, str) else None,
    )
