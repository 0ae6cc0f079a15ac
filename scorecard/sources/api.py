"""The base of every API source: what a vendor module does not have to write.

A vendor declares its ``kind``, its ``Options`` dataclass, how its token is
sent and its streams; :class:`ApiSource` owns the rest, once: the constructor
(typed options, the teams' config, a test transport), the HTTP client with the
token resolved and kept to the API's origin, the state version check that
starts a full sync when the bookmarks are unusable, gathering concurrent work
with failure triage (fatal errors stop the source, others become problems and
a partial result), and building the :class:`SourceResult`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from scorecard.errors import FatalSourceError, RateLimitExhausted, SecretsError
from scorecard.options import HttpOptions
from scorecard.sources.contract import SourceResult, typed_options
from scorecard.sources.http import HttpClient

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config.model import Config, SourceConfig
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.records import Collected

__all__ = ["ApiSource", "auth_token", "failures_of"]

OptionsT = TypeVar("OptionsT", bound=HttpOptions)


def failures_of(results: Sequence[object]) -> list[Exception]:
    """The errors among ``asyncio.gather(..., return_exceptions=True)`` results, in
    order. A fatal error (or a cancellation) is raised: retrying cannot help, and
    the whole source fails with it."""
    failures: list[Exception] = []
    for result in results:
        if not isinstance(result, BaseException):
            continue
        if isinstance(result, FatalSourceError) or not isinstance(result, Exception):
            raise result
        failures.append(result)
    return failures


def auth_token(cfg: SourceConfig) -> str | None:
    """The source's token (keyring, env or config); a keyring problem is fatal."""
    from scorecard.secrets import resolve_token

    try:
        return resolve_token(cfg)
    except SecretsError as exc:
        raise FatalSourceError(str(exc)) from None


class ApiSource(Generic[OptionsT]):
    """A source that reads a vendor's HTTP API; subclasses declare, this class does."""

    kind: str
    """The ``kind`` a config names this source by."""
    Options: type[HttpOptions]
    """The dataclass of this kind's options (its config schema)."""
    state_version: ClassVar[int] = 1
    """Bumped when the saved state's shape changes: an older state starts a full sync."""
    client_headers: ClassVar[Mapping[str, str]] = {}
    """Extra headers for the API's origin (e.g. GitHub's API version)."""
    client_class: ClassVar[type[HttpClient]] = HttpClient

    def __init__(
        self, cfg: SourceConfig, *, strict: bool = False, config: Config | None = None
    ) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.strict = strict
        self.options = cast(OptionsT, typed_options(self.Options, cfg))
        self.transport: Any = None
        """An httpx transport to use instead of the network (tests)."""
        self.setup(config)

    def setup(self, config: Config | None) -> None:
        """Read what this source needs from the whole config (teams, environments)."""

    # --- the client -----------------------------------------------------------------------

    def auth(self, token: str) -> Mapping[str, str]:
        """The headers that carry ``token`` (a bearer token unless the vendor differs)."""
        return {"Authorization": f"Bearer {token}"}

    def origin_headers(self, token: str | None) -> tuple[dict[str, str], list[str]]:
        """Headers for the API's origin only, and every secret value to redact."""
        headers = dict(self.client_headers)
        if token:
            headers.update(self.auth(token))
        return headers, [token] if token else []

    def client(self, validators: dict[str, Any] | None = None) -> HttpClient:
        """This source's HTTP client, with its token resolved (a keyring problem is
        fatal) and sent only to the API's own origin."""
        headers, secrets = self.origin_headers(auth_token(self.cfg))
        return self.client_class(
            self.cfg,
            auth_headers=headers,
            validators=validators,
            secrets=secrets,
            transport=self.transport,
        )

    # --- state and previous data ----------------------------------------------------------

    def start(
        self, ctx: FetchContext, *, needs_previous: bool = False
    ) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
        """The cached events and the usable saved state for this fetch.

        ``--full`` ignores both. A state of another :attr:`state_version` (or, with
        ``needs_previous``, one without cached events to merge into) is dropped, so
        the fetch starts over.
        """
        previous = {} if ctx.full else ctx.load_previous()
        state = {} if ctx.full else dict(ctx.state)
        if state.get("version") != self.state_version or (
            needs_previous and not any(len(f) for f in previous.values())
        ):
            state = {}
        return previous, state

    # --- gathering ------------------------------------------------------------------------

    @staticmethod
    async def gather(jobs: Sequence[Awaitable[Any]]) -> tuple[list[Any], list[Exception]]:
        """Run ``jobs`` concurrently: their results (an exception where one failed) and
        the failures in order. A fatal failure is raised."""
        results = list(await asyncio.gather(*jobs, return_exceptions=True))
        return results, failures_of(results)

    @staticmethod
    def settle(
        failures: Sequence[Exception], collected: Collected, client: HttpClient, *, total: int
    ) -> None:
        """Failures of independent parts (repos): when every one of ``total`` parts broke
        (a spent rate limit aside) the source fails with the first; otherwise each is a
        problem and the result is partial, as it is when the rate limit ran out."""
        broken = [f for f in failures if not isinstance(f, RateLimitExhausted)]
        if broken and len(broken) == total:
            raise broken[0]  # nothing worked at all: a failure, not partial data
        for failure in broken:
            collected.complete = False
            collected.problem(str(failure))
        if client.exhausted is not None:
            collected.complete = False
            collected.problem(client.exhausted)

    # --- the result -----------------------------------------------------------------------

    @staticmethod
    def result(
        collected: Collected,
        client: HttpClient,
        *,
        frames: dict[str, pd.DataFrame],
        state: dict[str, Any],
        extra: Mapping[str, int] | None = None,
    ) -> SourceResult:
        """The source's result: ``frames``, what was skipped, problems without secrets,
        the new ``state`` and the client's counters (``extra`` ones, such as records
        left out on purpose, counted with the streams)."""
        for key, n in (extra or {}).items():
            client.stats.count(key, n)
        return SourceResult(
            frames=frames,
            skipped=collected.skipped,
            problems=[client.redact(p) for p in collected.problems],
            state=state,
            rate_limit_remaining=client.stats.rate_limit_remaining,
            complete=collected.complete,
            stats=client.stats,
        )

    async def probe_each(self, paths: Sequence[str], what: str) -> str:
        """A light check for `scorecard config check`: each of ``paths`` answers with
        the token; says how many ``what`` are reachable and the rate limit left."""
        client = self.client()
        async with client:
            for path in paths:
                await client.get(path, conditional=False)
        detail = f"{len(paths)} {what} reachable"
        if client.stats.rate_limit_remaining is not None:
            detail += f", rate limit {client.stats.rate_limit_remaining:,} left"
        return detail
