"""Discovery with the sources' cache: fetched by a sync, read by everyone else.

A sync refreshes every remote ``[discovery.NAME]`` section before the sources
run (so a github source fetches the repos a catalog gave its teams) and keeps
each answer as the section's sync state, under the section's name
(``discovery.catalog``) beside the sources' own. A section that fails keeps
its last good answer, and its status says so: the map goes stale, it does not
go empty. Offline and read-only commands resolve the same map from the cache
without the network (:func:`cached_resolution`).

The cache is anything shaped like :class:`scorecard.store.Store` (the store
sits above this package, so it is described here, not imported).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from scorecard.config.model import Config, DiscoveryConfig
from scorecard.discovery.run import (
    Found,
    Resolved,
    fetch_state,
    found_from_state,
    is_remote,
    local_found,
    resolve_found,
)
from scorecard.status import SourceStatus

__all__ = ["Cache", "Refreshed", "cached_resolution", "refresh"]


class Cache(Protocol):
    """What discovery needs of the cache (:class:`scorecard.store.Store`)."""

    read_only: bool

    def state(self, name: str) -> dict[str, Any]: ...

    def write_source(
        self, name: str, kind: str, result: Any, *, attempted_at: datetime, stats: Any = None
    ) -> None: ...

    def record_failure(
        self, name: str, kind: str, error: str, *, attempted_at: datetime
    ) -> None: ...


@dataclass(frozen=True)
class Refreshed:
    """A refresh's team map and one status per remote section attempted."""

    resolved: Resolved
    statuses: tuple[SourceStatus, ...] = ()


def cached_resolution(config: Config, cache: Cache | None) -> Resolved:
    """The team map from local sections and the cached answers of remote ones
    (no network, nothing written)."""
    founds = []
    for section in config.discovery:
        found = local_found(section, config)
        if cache is not None and is_remote(section):
            found = found.plus(found_from_state(section, cache.state(section.section)))
        founds.append(found)
    return resolve_found(config, founds)


async def refresh(config: Config, cache: Cache | None, now: datetime) -> Refreshed:
    """Fetch every remote section (one after the other: they are a few requests),
    into ``cache`` when given and writable, and resolve the team map."""
    founds: list[Found] = []
    statuses: list[SourceStatus] = []
    for section in config.discovery:
        found = local_found(section, config)
        if is_remote(section):
            remote, status = await refresh_section(section, config, cache, now)
            found = found.plus(remote)
            statuses.append(status)
        founds.append(found)
    return Refreshed(resolve_found(config, founds), tuple(statuses))


async def refresh_section(
    section: DiscoveryConfig, config: Config, cache: Cache | None, now: datetime
) -> tuple[Found, SourceStatus]:
    """One remote section: its fresh answer, or on failure its last good one."""
    from scorecard.sources.contract import SourceResult

    name, kind = section.section, section.kind
    writable = cache is not None and not cache.read_only
    try:
        state = await fetch_state(section, config)
    except Exception as exc:  # a failed section never stops the sync
        error = failure_text(exc, section, config)
        if writable and cache is not None:
            cache.record_failure(name, kind, error, attempted_at=now)
        previous = found_from_state(section, cache.state(name)) if cache is not None else None
        found = previous or Found(section)
        status = SourceStatus(name=name, kind=kind, last_attempt_at=now, last_error=error)
        return found, status
    found = found_from_state(section, state)
    problems = [str(problem) for problem in found.problems]
    if writable and cache is not None:
        result = SourceResult(frames={}, problems=problems, state=state)
        cache.write_source(name, kind, result, attempted_at=now)
    status = SourceStatus(
        name=name,
        kind=kind,
        last_attempt_at=now,
        last_success_at=now,
        items=len(found.teams) + len(found.files),
        problems=problems,
    )
    return found, status


def failure_text(exc: BaseException, section: DiscoveryConfig, config: Config) -> str:
    """One line saying why a section failed, without any token it may use."""
    from scorecard.secrets import token_values
    from scorecard.text import redact_tokens

    message = " ".join(str(exc).split()) or type(exc).__name__
    secrets: list[str] = list(token_values(section.as_source()))
    source = getattr(section.options, "source", None)
    for cfg in config.sources:
        if cfg.name == source:
            secrets.extend(token_values(cfg))
    return redact_tokens(message, secrets) + "; the last good answer is kept"


def statuses_text(statuses: Sequence[SourceStatus]) -> list[str]:
    """One line per failed section, for a command's summary."""
    return [f"{s.name}: {s.last_error}" for s in statuses if s.last_error]
