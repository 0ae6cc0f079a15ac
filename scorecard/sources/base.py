"""The contract between sync and every source, and the registry of source kinds.

A source turns one configured system (a CI vendor, a pager, a directory of
exports) into the normalized event tables of :mod:`scorecard.model`. Sync only
ever talks to this protocol, so a new vendor is one module that registers its
kind; nothing else changes. Source modules are imported on first use, not at
startup, because most runs (the TUI reading the cache) never fetch anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

from scorecard.errors import FatalSourceError, PaginationLoop, RateLimitExhausted, SourceError
from scorecard.sources.contract import FetchContext, Source, SourceResult
from scorecard.sources.registry import (
    KNOWN_KINDS,
    build_source,
    register,
    registered_kinds,
)
from scorecard.sources.vcs import DEFAULT_CANARY_ENVIRONMENTS, DEFAULT_ROLLBACK_PATTERNS

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config import SourceConfig

__all__ = [
    "DEFAULT_CANARY_ENVIRONMENTS",
    "DEFAULT_ROLLBACK_PATTERNS",
    "KNOWN_KINDS",
    "FatalSourceError",
    "FetchContext",
    "PaginationLoop",
    "RateLimitExhausted",
    "Source",
    "SourceError",
    "SourceResult",
    "build_source",
    "register",
    "registered_kinds",
]


# =========================================================================================
# The HTTP layer shared by every API source (SPEC §10): one client per source, retries
# with backoff and jitter, rate limits, conditional requests, pagination, request stats.
# =========================================================================================

_LOCAL_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

RETRY_ATTEMPTS: Final = 6
"""Attempts per request (the first one included) before a transient error is fatal."""
BACKOFF_INITIAL_S: float = 0.5
"""First backoff wait; doubles per retry (with full jitter) up to :data:`BACKOFF_MAX_S`."""
BACKOFF_MAX_S: float = 30.0
DEFAULT_MAX_WAIT_S: Final = 60.0
"""Longest single rate-limit wait a source accepts before stopping with partial data."""
MAX_REDIRECTS: Final = 5
ANSWER_DEADLINE_FACTOR: Final = 3.0
"""One whole answer (redirects and body included) must arrive within this many times
``timeout_s``: a server trickling a byte at a time never trips a per-read timeout."""
MAX_PAGES: Final = 10_000
"""Hard ceiling on pages per listing, a last line of defence against runaway loops."""


async def _default_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


# Tests replace these to wait out rate limits without really waiting.
sleep: Callable[[float], Awaitable[None]] = _default_sleep
clock: Callable[[], float] = time.time


class _Retry(Exception):
    """A transient HTTP answer worth another attempt (5xx, 429, rate limited)."""

    def __init__(self, message: str, wait_s: float | None = None) -> None:
        super().__init__(message)
        self.wait_s = wait_s


@dataclass
class RequestStats:
    """What one source's client did, for the sync summary and the Sources screen."""

    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    malformed: int = 0
    waited_s: float = 0.0
    rate_limit_remaining: int | None = None
    items: dict[str, int] = field(default_factory=dict)

    def count(self, stream: str, n: int = 1) -> None:
        self.items[stream] = self.items.get(stream, 0) + n

    def as_dict(self) -> dict[str, int]:
        """Flat counters: ``requests``, ``not_modified``, ``retries``, ``malformed``,
        ``rate_limit_remaining`` (when known) and ``items.<stream>``."""
        out = {
            "requests": self.requests,
            "not_modified": self.not_modified,
            "retries": self.retries,
            "malformed": self.malformed,
        }
        if self.rate_limit_remaining is not None:
            out["rate_limit_remaining"] = self.rate_limit_remaining
        for stream, n in sorted(self.items.items()):
            out[f"items.{stream}"] = n
        return out


@dataclass
class Page:
    """One answer of a listing or a single GET."""

    url: str
    status: int
    data: Any = None
    """Parsed JSON (None when not modified or malformed)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    not_modified: bool = False
    """A 304: the validators matched, the data is what was stored last time."""
    malformed: bool = False
    """The body was not valid JSON; counted and skipped."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Notes the caller keeps with this page's validators (e.g. its oldest timestamp)."""
    next_url: str | None = None


def _is_local(host: str | None) -> bool:
    return (host or "").lower() in _LOCAL_HOSTS


def request_key(url: str, params: Mapping[str, Any] | None = None) -> str:
    """A stable key for a GET: the URL with its query parameters sorted."""
    import httpx

    merged = httpx.URL(url)
    if params:
        merged = merged.copy_merge_params({k: v for k, v in params.items() if v is not None})
    query = sorted(httpx.QueryParams(merged.query.decode()).multi_items())
    base = str(merged.copy_with(query=None))
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")


class HttpClient:
    """One async HTTP client per source.

    Timeouts, a ``scorecard/<version>`` User-Agent, TLS verification always on, a
    concurrency limit, retries with backoff and jitter on connect errors, timeouts,
    5xx and 429, rate-limit waits honouring ``Retry-After`` and reset headers up to
    ``max_wait_s``, and conditional requests whose validators live in the source's
    sync state (``validators``: request key -> etag / last_modified / next / meta).
    """

    def __init__(
        self,
        cfg: SourceConfig,
        *,
        auth_headers: Mapping[str, str] | None = None,
        validators: dict[str, Any] | None = None,
        secrets: list[str] | None = None,
        transport: Any = None,
    ) -> None:
        import httpx

        from scorecard import __version__

        if not cfg.api_url:
            raise FatalSourceError(f"source '{cfg.name}': no api_url configured")
        base = httpx.URL(cfg.api_url.rstrip("/") + "/")
        if base.scheme not in ("http", "https"):
            raise FatalSourceError(f"source '{cfg.name}': api_url must be http(s)://")
        if base.scheme == "http" and not _is_local(base.host) and not cfg.allow_insecure:
            raise FatalSourceError(
                f"source '{cfg.name}': refusing plain http:// to {base.host}; use https:// "
                "or set allow_insecure = true"
            )
        self.name = cfg.name
        self.base = base
        self.allow_insecure = cfg.allow_insecure
        self.timeout_s = float(cfg.timeout_s)
        self.stats = RequestStats()
        self.max_wait_s = float(cfg.options.get("max_wait_s", DEFAULT_MAX_WAIT_S))
        self.previous_validators: dict[str, Any] = dict(validators or {})
        self.validators: dict[str, Any] = {}
        """Validators seen in this run; becomes the new state (unused ones are dropped)."""
        self.secrets = [s for s in (secrets or []) if s]
        self.exhausted: str | None = None
        """Set once the rate-limit budget is spent: every later request stops at once."""
        self._limit = asyncio.Semaphore(max(1, cfg.max_concurrency))
        headers = {
            "User-Agent": f"scorecard/{__version__}",
            "Accept": "application/json",
        }
        self._auth = dict(auth_headers or {})
        """Sent only to the API's own origin: never after a redirect to another host."""
        self._client = httpx.AsyncClient(
            base_url=base,
            headers=headers,
            timeout=httpx.Timeout(cfg.timeout_s),
            follow_redirects=False,  # followed by hand, see _send
            verify=True,
            transport=transport,
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def url(self, path: str) -> str:
        """An absolute URL for ``path`` under the API base (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return str(self.base.join(path.lstrip("/")))

    def _redact(self, text: str) -> str:
        from scorecard.secrets import redact

        return redact(text, self.secrets)

    def _check_url(self, url: str) -> None:
        import httpx

        target = httpx.URL(url)
        if (target.scheme, target.host, target.port) != (
            self.base.scheme,
            self.base.host,
            self.base.port,
        ):
            raise SourceError(
                f"refusing to send credentials to {target.scheme}://{target.host} "
                f"(the API is at {self.base.scheme}://{self.base.host})"
            )

    async def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        conditional: bool = True,
    ) -> Page:
        """GET ``path`` as JSON, with retries, rate-limit waits and validators.

        Returns a :class:`Page`; 304 answers come back with ``not_modified`` and the
        meta stored with the validators. 404 and other 4xx raise :class:`SourceError`
        (401/403 without a rate limit: :class:`FatalSourceError`); the error carries
        this client's request counters in ``stats``.
        """
        try:
            return await self._get(path, params, conditional=conditional)
        except SourceError as exc:
            if getattr(exc, "stats", None) is None:
                exc.stats = self.stats  # type: ignore[attr-defined]
            raise

    async def _get(self, path: str, params: Mapping[str, Any] | None, *, conditional: bool) -> Page:
        import tenacity

        if self.exhausted is not None:
            raise RateLimitExhausted(self.exhausted)
        url = self.url(path)
        self._check_url(url)
        key = request_key(url, params)
        stored = self.previous_validators.get(key) if conditional else None
        attempt = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception(self._retriable),
            wait=self._wait,
            stop=tenacity.stop_after_attempt(RETRY_ATTEMPTS),
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            async for tries in attempt:
                with tries:
                    page = await self._once(url, params, key, stored, remember=conditional)
        except RateLimitExhausted as exc:
            self.exhausted = str(exc)
            raise
        except _Retry as exc:
            raise SourceError(self._redact(f"GET {key}: {exc}"), retriable=True) from None
        except Exception as exc:
            import httpx

            if isinstance(exc, httpx.TransportError):
                what = type(exc).__name__
                detail = str(exc) or what
                raise SourceError(
                    self._redact(f"GET {key}: {detail} ({what})"), retriable=True
                ) from None
            raise
        return page

    @staticmethod
    def _retriable(exc: BaseException) -> bool:
        import httpx

        return isinstance(exc, (_Retry, httpx.TransportError))

    def _wait(self, retry_state: Any) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _Retry) and exc.wait_s is not None:
            return max(0.0, exc.wait_s)
        ceiling = min(BACKOFF_MAX_S, BACKOFF_INITIAL_S * 2 ** (retry_state.attempt_number - 1))
        return random.uniform(0, ceiling)  # full jitter

    async def _sleep(self, seconds: float) -> None:
        self.stats.waited_s += seconds
        await sleep(seconds)

    def _before_sleep(self, retry_state: Any) -> None:
        self.stats.retries += 1

    async def _once(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        key: str,
        stored: Any,
        *,
        remember: bool = True,
    ) -> Page:
        headers: dict[str, str] = {}
        if isinstance(stored, dict):
            if stored.get("etag"):
                headers["If-None-Match"] = str(stored["etag"])
            if stored.get("last_modified"):
                headers["If-Modified-Since"] = str(stored["last_modified"])
        async with self._limit:
            self.stats.requests += 1
            response = await self._send_within_deadline(url, params, headers)
        self._note_rate_limit(response.headers)
        status = response.status_code
        if status == 304 and isinstance(stored, dict):
            self.stats.not_modified += 1
            self.validators[key] = stored
            return Page(
                url=key,
                status=304,
                headers=response.headers,
                not_modified=True,
                meta=dict(stored.get("meta") or {}),
                next_url=stored.get("next"),
            )
        if status == 429 or status >= 500 or self._rate_limited(response):
            wait = self._rate_limit_wait(response.headers)
            reason = f"HTTP {status}"
            if wait is not None and wait > self.max_wait_s:
                raise RateLimitExhausted(
                    f"{self.name}: rate limited (HTTP {status}); the API asks to wait "
                    f"{wait:.0f}s, more than max_wait_s = {self.max_wait_s:g}; "
                    "stopped early with partial data"
                )
            if wait is None and status in (403, 429):
                wait = min(BACKOFF_MAX_S, self.max_wait_s)
            raise _Retry(reason, wait)
        if status in (401, 403):
            raise FatalSourceError(
                self._redact(
                    f"GET {key}: HTTP {status} — check the token of source '{self.name}' "
                    f"(`scorecard auth set {self.name}`) and its permissions"
                )
            )
        if status >= 400:
            raise SourceError(self._redact(f"GET {key}: HTTP {status}"))
        validators: dict[str, Any] = {}
        if response.headers.get("etag"):
            validators["etag"] = response.headers["etag"]
        if response.headers.get("last-modified"):
            validators["last_modified"] = response.headers["last-modified"]
        page = Page(url=key, status=status, headers=response.headers)
        try:
            page.data = response.json()
        except (ValueError, UnicodeDecodeError):
            page.malformed = True
            self.stats.malformed += 1
        if validators and remember and not page.malformed:
            self.validators[key] = validators
        return page

    async def _send_within_deadline(
        self, url: str, params: Mapping[str, Any] | None, headers: dict[str, str]
    ) -> Any:
        """:meth:`_send`, abandoned (as a retriable read timeout) past the answer deadline."""
        import httpx

        deadline = self.timeout_s * ANSWER_DEADLINE_FACTOR
        try:
            return await asyncio.wait_for(self._send(url, params, headers), timeout=deadline)
        except asyncio.TimeoutError:
            raise httpx.ReadTimeout(f"no complete answer within {deadline:g}s") from None

    async def _send(
        self, url: str, params: Mapping[str, Any] | None, headers: dict[str, str]
    ) -> Any:
        """GET with redirects followed by hand: credentials (``Authorization`` and any
        vendor token header such as GitLab's ``PRIVATE-TOKEN``) go to the API's origin
        only, and never to a plain-http host unless it is local or allowed."""
        import httpx

        target = httpx.URL(url)
        query = params
        for _hop in range(MAX_REDIRECTS + 1):
            same = self._same_origin(target)
            if target.scheme == "http" and not (_is_local(target.host) or self.allow_insecure):
                raise SourceError(f"refusing to follow a redirect to plain http://{target.host}")
            response = await self._client.get(
                target, params=query, headers={**headers, **(self._auth if same else {})}
            )
            location = response.headers.get("location")
            if not (response.is_redirect and location):
                return response
            target, query = response.url.join(location), None
        raise SourceError(f"more than {MAX_REDIRECTS} redirects from {url}")

    def _same_origin(self, target: Any) -> bool:
        return bool(
            (target.scheme, target.host, target.port)
            == (self.base.scheme, self.base.host, self.base.port)
        )

    def remember(self, page: Page, *, next_url: str | None = None, **meta: Any) -> None:
        """Keep ``next_url`` and ``meta`` with ``page``'s validators for the next sync."""
        entry = self.validators.get(page.url)
        if entry is None:
            return
        entry = dict(entry)
        if next_url is not None:
            entry["next"] = next_url
        if meta:
            entry["meta"] = {**(entry.get("meta") or {}), **meta}
        self.validators[page.url] = entry

    @staticmethod
    def _rate_limited(response: Any) -> bool:
        """A 403 that is a rate limit (GitHub primary or secondary), not a permission problem."""
        if response.status_code != 403:
            return False
        headers = response.headers
        if headers.get("x-ratelimit-remaining") == "0" or headers.get("retry-after"):
            return True
        try:
            text = response.text.lower()
        except Exception:
            return False
        return "rate limit" in text

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        for name in ("x-ratelimit-remaining", "ratelimit-remaining"):
            value = headers.get(name)
            if value is not None:
                with contextlib.suppress(ValueError):
                    self.stats.rate_limit_remaining = int(value)
                return

    @staticmethod
    def _rate_limit_wait(headers: Mapping[str, str]) -> float | None:
        """Seconds the API asks us to wait: ``Retry-After`` or a rate-limit reset time."""
        retry_after = headers.get("retry-after")
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                from email.utils import parsedate_to_datetime

                with contextlib.suppress(TypeError, ValueError):
                    return max(0.0, parsedate_to_datetime(retry_after).timestamp() - clock())
        remaining = headers.get("x-ratelimit-remaining", headers.get("ratelimit-remaining"))
        reset = headers.get("x-ratelimit-reset", headers.get("ratelimit-reset"))
        if remaining == "0" and reset:
            try:
                value = float(reset)
            except ValueError:
                return None
            # Epoch seconds (GitHub, GitLab) or, for the IETF draft header, a delta.
            return max(0.0, value - clock()) + 1.0 if value > 1e9 else max(0.0, value)
        return None


# --- pagination ---------------------------------------------------------------------------


def auth_token(cfg: SourceConfig) -> str | None:
    """The source's token (keyring, env or config); a keyring problem is fatal."""
    from scorecard.secrets import SecretsError, resolve_token

    try:
        return resolve_token(cfg)
    except SecretsError as exc:
        raise FatalSourceError(str(exc)) from None


def api_client(
    cfg: SourceConfig,
    auth: Callable[[str], Mapping[str, str]],
    *,
    headers: Mapping[str, str] | None = None,
    validators: dict[str, Any] | None = None,
    transport: Any = None,
) -> HttpClient:
    """The source's client with its token resolved: ``headers`` plus ``auth(token)``
    go only to the API's own origin, and the token is redacted from every error."""
    token = auth_token(cfg)
    origin_headers = dict(headers or {})
    if token:
        origin_headers.update(auth(token))
    return HttpClient(
        cfg,
        auth_headers=origin_headers,
        validators=validators,
        secrets=[token] if token else [],
        transport=transport,
    )


def link_next(headers: Mapping[str, str]) -> str | None:
    """The ``rel="next"`` target of an RFC 8288 ``Link`` header."""
    value = headers.get("link")
    if not value:
        return None
    for part in value.split(","):
        section = part.split(";")
        if len(section) < 2:
            continue
        target = section[0].strip()
        if not (target.startswith("<") and target.endswith(">")):
            continue
        for attr in section[1:]:
            name, _, rel = attr.strip().partition("=")
            if name.strip().lower() == "rel" and "next" in rel.strip().strip('"').split():
                return target[1:-1]
    return None


class _LoopGuard:
    def __init__(self, what: str) -> None:
        self.what = what
        self.seen: set[str] = set()

    def check(self, key: str) -> None:
        if key in self.seen:
            raise PaginationLoop(f"pagination loop in {self.what}: {key} was already fetched")
        if len(self.seen) >= MAX_PAGES:
            raise PaginationLoop(f"more than {MAX_PAGES} pages in {self.what}; stopped")
        self.seen.add(key)


async def paginate_link(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    conditional: bool = True,
) -> AsyncIterator[Page]:
    """Follow ``Link: <...>; rel="next"`` (GitHub, GitLab keyset) page by page.

    Yields every page, 304s included (with the next URL stored last time).
    """
    guard = _LoopGuard(path)
    url: str | None = client.url(path)
    query: Mapping[str, Any] | None = params
    while url is not None:
        guard.check(request_key(url, query))
        page = await client.get(url, query, conditional=conditional)
        if not page.not_modified:
            page.next_url = link_next(page.headers)
            client.remember(page, next_url=page.next_url or "")
        yield page
        url, query = (page.next_url or None), None


async def paginate_pages(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    page_param: str = "page",
    next_header: str = "x-next-page",
    conditional: bool = True,
) -> AsyncIterator[Page]:
    """Page-number pagination (GitLab's ``x-next-page``; ``page=N`` parameters)."""
    guard = _LoopGuard(path)
    current: str | None = "1"
    while current:
        query = {**(params or {}), page_param: current}
        guard.check(request_key(client.url(path), query))
        page = await client.get(path, query, conditional=conditional)
        if not page.not_modified:
            page.next_url = (page.headers.get(next_header) or "").strip() or None
            client.remember(page, next_url=page.next_url or "")
        yield page
        current = page.next_url


async def paginate_offset(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    limit: int = 100,
    more_key: str = "more",
    items_key: str,
    conditional: bool = False,
) -> AsyncIterator[Page]:
    """Offset + ``more`` pagination (PagerDuty style: ``offset``, ``limit``, ``more``)."""
    guard = _LoopGuard(path)
    offset = 0
    while True:
        query = {**(params or {}), "offset": offset, "limit": limit}
        guard.check(request_key(client.url(path), query))
        page = await client.get(path, query, conditional=conditional)
        yield page
        data = page.data if isinstance(page.data, dict) else {}
        items = data.get(items_key)
        if not data.get(more_key) or not isinstance(items, list) or not items:
            return
        offset += len(items)


async def paginate_cursor(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    cursor_path: tuple[str, ...],
    cursor_param: str = "after",
    conditional: bool = False,
) -> AsyncIterator[Page]:
    """Cursor pagination: the next cursor is read from the body at ``cursor_path``."""
    guard = _LoopGuard(path)
    seen_cursors: set[str] = set()
    cursor: str | None = None
    while True:
        query = {**(params or {})}
        if cursor is not None:
            query[cursor_param] = cursor
        guard.check(request_key(client.url(path), query))
        page = await client.get(path, query, conditional=conditional)
        yield page
        node: Any = page.data
        for part in cursor_path:
            node = node.get(part) if isinstance(node, dict) else None
        if not node:
            return
        cursor = str(node)
        if cursor in seen_cursors:
            raise PaginationLoop(f"pagination loop in {path}: cursor {cursor} repeated")
        seen_cursors.add(cursor)


# --- helpers for API sources ----------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as aware UTC (``Z`` and offsets accepted), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def iso(value: datetime) -> str:
    """``2024-03-10T12:00:00Z``."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_frames(
    previous: Mapping[str, pd.DataFrame], fresh: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Previous events plus fresh ones, deduplicated by ``id`` (fresh wins)."""
    from scorecard import model

    out: dict[str, pd.DataFrame] = {}
    for kind in sorted(set(previous) | set(fresh)):
        if kind not in model.SCHEMAS:
            continue
        event_kind: model.EventKind = kind  # type: ignore[assignment]
        parts = [f for f in (previous.get(kind), fresh.get(kind)) if f is not None and len(f)]
        merged = model.concat(event_kind, parts)
        if "id" in merged.columns and len(merged):
            merged = merged.drop_duplicates("id", keep="last").reset_index(drop=True)
        if len(merged) or kind in fresh:
            out[kind] = merged
    return out


def glob_match(value: str | None, patterns: Sequence[str]) -> bool:
    """Case-insensitive shell-glob match of ``value`` against any of ``patterns``."""
    if not value:
        return False
    folded = value.casefold()
    return any(fnmatch.fnmatchcase(folded, p.casefold()) for p in patterns)


# --- shared by the API sources (GitHub, GitLab) --------------------------------------------

MAX_PROBLEMS_PER_SOURCE: Final = 50


@dataclass
class Collected:
    """Fresh records of one API sync, plus what was skipped and why."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    complete: bool = True

    def add(self, kind: str, record: dict[str, Any], where: str) -> bool:
        """Keep ``record`` if it has every required field; else count it as skipped."""
        from scorecard import model

        event_kind: model.EventKind = kind  # type: ignore[assignment]
        missing = [f for f in model.REQUIRED[event_kind] if record.get(f) in (None, "")]
        if missing:
            self.bad(where, f"missing {', '.join(missing)}")
            return False
        self.records.setdefault(kind, []).append(record)
        return True

    def bad(self, where: str, message: str) -> None:
        self.skipped += 1
        self.problem(f"{where}: {message} (skipped)")

    def problem(self, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS_PER_SOURCE:
            self.problems.append(message)
        elif len(self.problems) == MAX_PROBLEMS_PER_SOURCE:
            self.problems.append("... more problems not shown")

    def frames(self) -> dict[str, pd.DataFrame]:
        from scorecard import model

        out: dict[str, pd.DataFrame] = {}
        for kind, rows in self.records.items():
            event_kind: model.EventKind = kind  # type: ignore[assignment]
            out[kind] = model.frame_from_records(event_kind, rows)
        return out


def resolve_deployments(
    deployments: pd.DataFrame,
    changes: pd.DataFrame | None,
    *,
    production: Sequence[str],
    canary_environments: Sequence[str],
    rollback_patterns: Sequence[re.Pattern[str]],
) -> pd.DataFrame:
    """Strategies and rollbacks that need more than one event to decide.

    A production deployment is ``canary`` when the same commit reached a canary
    environment (success) no later than it started; otherwise ``unknown`` (left
    for rollout samples to resolve). A deployment is a rollback when it was
    recognised as one when parsed, or when it ships the merge commit of a revert
    change (a change whose title matches a rollback pattern).
    """
    if deployments.empty:
        return deployments
    import pandas as pd

    env = deployments["environment"].astype(object)
    prod_names = {p.casefold() for p in production}
    is_prod = env.map(lambda e: isinstance(e, str) and e.casefold() in prod_names)
    is_canary = env.map(lambda e: isinstance(e, str) and glob_match(e, canary_environments))
    canary_first: dict[tuple[Any, Any], Any] = {}
    ok = deployments["status"].astype(object) == "success"
    for repo, sha, at in zip(
        deployments.loc[is_canary & ok, "repo"].astype(object),
        deployments.loc[is_canary & ok, "commit_sha"],
        deployments.loc[is_canary & ok, "started_at"],
    ):
        if sha and pd.notna(at):
            key = (repo, sha)
            canary_first[key] = min(at, canary_first.get(key, at))
    strategy = deployments["strategy"].astype(object).copy()
    for idx in deployments.index[is_prod.to_numpy(dtype=bool)]:
        key = (deployments.at[idx, "repo"], deployments.at[idx, "commit_sha"])
        first = canary_first.get(key)
        started: Any = deployments.at[idx, "started_at"]
        if first is not None and pd.notna(started) and first <= started:
            strategy[idx] = "canary"
        elif strategy[idx] == "canary":
            strategy[idx] = "unknown"
    strategy[is_canary & ~is_prod] = "canary"
    out = deployments.copy()
    out["strategy"] = strategy.astype(deployments["strategy"].dtype)
    if changes is not None and not changes.empty:
        titles = changes["title"].astype(object).fillna("")
        reverts = titles.map(lambda t: any(p.search(t) for p in rollback_patterns))
        shas = set(changes.loc[reverts, "merge_sha"].dropna().astype(str))
        if shas:
            out["is_rollback"] = out["is_rollback"] | out["commit_sha"].isin(shas)
    return out


def compile_patterns(patterns: Sequence[str] | None) -> list[re.Pattern[str]]:
    return [re.compile(p) for p in (patterns or DEFAULT_ROLLBACK_PATTERNS)]


def matches_any(text: Any, patterns: Sequence[re.Pattern[str]]) -> bool:
    return isinstance(text, str) and any(p.search(text) for p in patterns)


def finish_api_result(
    collected: Collected,
    previous: Mapping[str, pd.DataFrame],
    client: HttpClient,
    *,
    state: dict[str, Any],
    production: Sequence[str],
    canary_environments: Sequence[str],
    rollback_patterns: Sequence[re.Pattern[str]],
) -> SourceResult:
    """Merge fresh records into the previous events and package the result."""
    frames = merge_frames(previous, collected.frames())
    if "deployments" in frames:
        frames["deployments"] = resolve_deployments(
            frames["deployments"],
            frames.get("changes"),
            production=production,
            canary_environments=canary_environments,
            rollback_patterns=rollback_patterns,
        )
    stats = client.stats.as_dict()
    stats["skipped"] = collected.skipped
    return SourceResult(
        frames=frames,
        skipped=collected.skipped,
        problems=[client._redact(p) for p in collected.problems],
        state={**state, "http": client.validators},
        rate_limit_remaining=client.stats.rate_limit_remaining,
        complete=collected.complete,
        stats=stats,
    )
