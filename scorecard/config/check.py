"""``scorecard config check``: after the config validates, try every connection once.

Each source runs its light ``probe()`` (or else a fetch of the last day) and
each ``[discovery.NAME]`` section is read as a sync would read it (the catalog
folder or API, the org's teams, each repo's CODEOWNERS), side by side and in
memory: nothing is written. Every one becomes a row of the table, its error
text without any token, so one broken connection never hides the others.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scorecard.request import utcnow

if TYPE_CHECKING:
    from scorecard.config.model import Config, DiscoveryConfig, SourceConfig

__all__ = ["CheckRow", "check_all", "check_table"]

CheckRow = tuple[str, str, bool, str]
"""``(name, kind, ok, detail)``."""


async def check_all(config: Config) -> list[CheckRow]:
    """Try each source and discovery section once, side by side, in memory."""
    now = utcnow()
    sources = [check_source(cfg, config, now) for cfg in config.sources]
    sections = [check_discovery(section, config) for section in config.discovery]
    return list(await asyncio.gather(*sources, *sections))


def check_table(rows: list[CheckRow]) -> str:
    """The rows as an aligned table (``ok`` or ``FAILED`` with the detail)."""
    width = max([len("source"), *(len(r[0]) for r in rows)])
    lines = [f"{'source':<{width}}  {'kind':<12}  {'result':<6}  detail"]
    for name, kind, ok, detail in rows:
        lines.append(f"{name:<{width}}  {kind:<12}  {'ok' if ok else 'FAILED':<6}  {detail}")
    return "\n".join(lines)


async def check_source(cfg: SourceConfig, config: Config, now: datetime) -> CheckRow:
    """One source's row: its light probe, or else a fetch of the last day."""
    from scorecard.sources import FetchContext, build_source
    from scorecard.text import redact

    timeout = max(probe_timeout_s(cfg) * 2, 10)
    try:
        source = build_source(cfg, config=config)
        probe = getattr(source, "probe", None)
        if probe is not None:
            detail = await asyncio.wait_for(probe(), timeout=timeout)
            return cfg.name, cfg.kind, True, detail
        ctx = FetchContext(since=now - timedelta(days=1), until=now, full=True)
        result = await asyncio.wait_for(source.fetch(ctx), timeout=timeout)
    except Exception as exc:  # reported per source, in the table
        return cfg.name, cfg.kind, False, redact(str(exc), [resolve_token_quietly(cfg)])
    detail = f"{result.items} events in the last day"
    if result.skipped:
        detail += f", {result.skipped} bad rows skipped"
    return cfg.name, cfg.kind, True, detail


async def check_discovery(section: DiscoveryConfig, config: Config) -> CheckRow:
    """One discovery section's row: what it found (teams, CODEOWNERS, problems)."""
    from scorecard.discovery.run import fetch_state, found_from_state, is_remote, local_found
    from scorecard.text import redact

    name, kind = section.section, section.kind
    try:
        found = local_found(section, config)
        if is_remote(section):
            state = await asyncio.wait_for(fetch_state(section, config), timeout=60)
            found = found.plus(found_from_state(section, state))
    except Exception as exc:  # reported per section, in the table
        secrets = [resolve_token_quietly(section.as_source())]
        if (source := getattr(section.options, "source", None)) is not None:
            secrets.append(resolve_token_quietly(config.source(source)))
        return name, kind, False, redact(str(exc), secrets)
    detail = f"{len(found.teams)} teams, CODEOWNERS of {len(found.files)} repos"
    if found.problems:
        detail += f", {len(found.problems)} problems (`scorecard teams` lists them)"
    return name, kind, True, detail


def probe_timeout_s(cfg: SourceConfig) -> float:
    """The source's request timeout (30 s for sources that make no requests)."""
    from scorecard.options import HttpOptions

    return cfg.options.timeout_s if isinstance(cfg.options, HttpOptions) else 30.0


def resolve_token_quietly(cfg: SourceConfig) -> str | None:
    """The source's token for redaction, or None when it cannot be had."""
    from scorecard.secrets import SecretsError, resolve_token

    try:
        return resolve_token(cfg)
    except SecretsError:
        return None
