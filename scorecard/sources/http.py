"""The HTTP client every API source shares (SPEC §10).

One client per source: timeouts, a ``scorecard/<version>`` User-Agent, TLS
verification always on, a concurrency limit, retries with backoff and jitter,
rate-limit waits, conditional requests whose validators live in the source's
sync state, redirects followed by hand so credentials only ever reach the
API's own origin, and every error message redacted of the token. What it did
is counted in a :class:`~scorecard.status.RequestStats`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from scorecard.errors import FatalSourceError, RateLimitExhausted, SourceError
from scorecard.options import DEFAULT_MAX_WAIT_S
from scorecard.sources.contract import http_options
from scorecard.status import RequestStats
from scorecard.text import redact

if TYPE_CHECKING:
    from scorecard.config.model import SourceConfig

__all__ = [
    "ANSWER_DEADLINE_FACTOR",
    "BACKOFF_INITIAL_S",
    "BACKOFF_MAX_S",
    "DEFAULT_MAX_WAIT_S",
    "MAX_REDIRECTS",
    "RETRY_ATTEMPTS",
    "HttpClient",
    "Page",
    "RequestStats",
    "request_key",
]

_LOCAL_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

RETRY_ATTEMPTS: Final = 6
"""Attempts per request (the first one included) before a transient error is fatal."""
BACKOFF_INITIAL_S: float = 0.5
"""First backoff wait; doubles per retry (with full jitter) up to :data:`BACKOFF_MAX_S`."""
BACKOFF_MAX_S: float = 30.0
"""Longest single rate-limit wait a source accepts before stopping with partial data."""
MAX_REDIRECTS: Final = 5
ANSWER_DEADLINE_FACTOR: Final = 3.0
"""One whole answer (redirects and body included) must arrive within this many times
``timeout_s``: a server trickling a byte at a time never trips a per-read timeout."""


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


@dataclass(frozen=True)
class _Sent:
    """One request as sent (each attempt sends it again)."""

    method: str
    url: str
    params: Mapping[str, Any] | None
    key: str
    body: Mapping[str, Any] | None = None


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

        options = http_options(cfg)
        url = options.base_url
        if not url:
            raise FatalSourceError(f"source '{cfg.name}': no api_url configured")
        base = httpx.URL(url.rstrip("/") + "/")
        if base.scheme not in ("http", "https"):
            raise FatalSourceError(f"source '{cfg.name}': api_url must be http(s)://")
        if base.scheme == "http" and not _is_local(base.host) and not options.allow_insecure:
            raise FatalSourceError(
                f"source '{cfg.name}': refusing plain http:// to {base.host}; use https:// "
                "or set allow_insecure = true"
            )
        self.name = cfg.name
        self.base = base
        self.allow_insecure = options.allow_insecure
        self.timeout_s = float(options.timeout_s)
        self.stats = RequestStats()
        self.max_wait_s = float(options.max_wait_s)
        self.previous_validators: dict[str, Any] = dict(validators or {})
        self.validators: dict[str, Any] = {}
        """Validators seen in this run; becomes the new state (unused ones are dropped)."""
        self.secrets = [s for s in (secrets or []) if s]
        self.exhausted: str | None = None
        """Set once the rate-limit budget is spent: every later request stops at once."""
        self._limit = asyncio.Semaphore(max(1, options.max_concurrency))
        headers = {
            "User-Agent": f"scorecard/{__version__}",
            "Accept": "application/json",
        }
        self._auth = dict(auth_headers or {})
        """Sent only to the API's own origin: never after a redirect to another host."""
        self._client = httpx.AsyncClient(
            base_url=base,
            headers=headers,
            timeout=httpx.Timeout(options.timeout_s),
            follow_redirects=False,  # followed by hand, see send
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

    def redact(self, text: str) -> str:
        """``text`` without this source's secrets."""
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
        return await self._request("GET", path, params, conditional=conditional)

    async def post_json(self, path: str, body: Mapping[str, Any]) -> Page:
        """POST ``body`` as JSON (GraphQL), with GET's retries, rate-limit waits and
        errors; never conditional."""
        return await self._request("POST", path, None, conditional=False, body=body)

    async def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        *,
        conditional: bool,
        body: Mapping[str, Any] | None = None,
    ) -> Page:
        try:
            return await self._attempts(method, path, params, conditional=conditional, body=body)
        except SourceError as exc:
            if exc.stats is None:
                exc.stats = self.stats
            raise

    async def _attempts(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        *,
        conditional: bool,
        body: Mapping[str, Any] | None,
    ) -> Page:
        import tenacity

        if self.exhausted is not None:
            raise RateLimitExhausted(self.exhausted)
        url = self.url(path)
        self._check_url(url)
        key = request_key(url, params)
        stored = self.previous_validators.get(key) if conditional else None
        sent = _Sent(method, url, params, key, body)
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
                    page = await self._once(sent, stored, remember=conditional)
        except RateLimitExhausted as exc:
            self.exhausted = str(exc)
            raise
        except _Retry as exc:
            raise SourceError(self.redact(f"{method} {key}: {exc}"), retriable=True) from None
        except Exception as exc:
            import httpx

            if isinstance(exc, httpx.TransportError):
                what = type(exc).__name__
                detail = str(exc) or what
                raise SourceError(
                    self.redact(f"{method} {key}: {detail} ({what})"), retriable=True
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

    async def wait(self, seconds: float) -> None:
        """Wait out a rate limit the API reported in an answer's body (GraphQL's
        ``RATE_LIMITED``), counted like the waits the client decides itself."""
        await self._sleep(seconds)

    async def _once(self, sent: _Sent, stored: Any, *, remember: bool = True) -> Page:
        key = sent.key
        headers: dict[str, str] = {}
        if isinstance(stored, dict):
            if stored.get("etag"):
                headers["If-None-Match"] = str(stored["etag"])
            if stored.get("last_modified"):
                headers["If-Modified-Since"] = str(stored["last_modified"])
        async with self._limit:
            self.stats.requests += 1
            response = await self._send_within_deadline(sent, headers)
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
        self._raise_for_status(response, f"{sent.method} {key}")
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

    def _raise_for_status(self, response: Any, what: str) -> None:
        """Rate limits and 5xx to retry (or stop on, past ``max_wait_s``), 401/403 as a
        token problem, other 4xx as a failed request."""
        status = response.status_code
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
                self.redact(
                    f"{what}: HTTP {status} — check the token of source '{self.name}' "
                    f"(`scorecard auth set {self.name}`) and its permissions"
                )
            )
        if status >= 400:
            raise SourceError(self.redact(f"{what}: HTTP {status}"))

    async def _send_within_deadline(self, sent: _Sent, headers: dict[str, str]) -> Any:
        """:meth:`send` (or the POST), abandoned (as a retriable read timeout) past the
        answer deadline."""
        import httpx

        deadline = self.timeout_s * ANSWER_DEADLINE_FACTOR
        if sent.body is not None:
            answer = self._client.post(
                sent.url, json=dict(sent.body), headers={**headers, **self._auth}
            )
        else:
            answer = self.send(sent.url, sent.params, headers)
        try:
            return await asyncio.wait_for(answer, timeout=deadline)
        except asyncio.TimeoutError:
            raise httpx.ReadTimeout(f"no complete answer within {deadline:g}s") from None

    async def send(
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
        if headers.get("x-ratelimit-resource") == "graphql":
            # GitHub's GraphQL budget is counted in points, apart from REST's requests.
            with contextlib.suppress(TypeError, ValueError):
                self.stats.points_remaining = int(headers.get("x-ratelimit-remaining", ""))
            return
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
