"""From config text to a validated :class:`Config`, failing on the first problem.

The order of the checks is the order a reader meets the sections: TOML syntax,
unknown top-level keys, ``[scorecard]``, ``[thresholds]``, ``[service_aliases]``,
``[sources.*]``, ``[discovery.*]``, ``[[teams]]`` (optional when discovery
brings teams), the checks of sources and discovery sections that need the team
names, then ``[change_classes.*]``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from scorecard import bands
from scorecard.config.checker import Checker, closest_hint, describe
from scorecard.config.discovery_section import check_discovery, parse_discovery
from scorecard.config.model import Config, SourceConfig
from scorecard.config.source_section import check_problems, parse_source
from scorecard.config.teams import parse_change_classes, parse_teams
from scorecard.config.toml_lines import KeyPath

__all__ = ["SCORECARD_KEYS", "TOP_KEYS", "parse_config"]

TOP_KEYS: Final = (
    "scorecard",
    "thresholds",
    "service_aliases",
    "sources",
    "teams",
    "change_classes",
    "discovery",
)
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9_-]+$")
CACHE_SCHEMES: Final = ("s3", "gs", "az", "abfs", "abfss", "file")
"""The object stores (and ``file://``) a shared ``cache_url`` may name."""


def parse_config(text: str, path: Path | None = None) -> Config:
    """Validate config ``text`` (read from ``path``, used in messages and for
    resolving relative paths). Raises ConfigError on the first problem."""
    ck = Checker(text, path)
    data = ck.parse_toml()
    ck.keys(data, (), TOP_KEYS)
    warnings: list[str] = []
    settings = _settings(ck, data)
    thresholds = _parse_thresholds(ck, data)
    aliases = _service_aliases(ck, data)
    sources = _parse_sources(ck, data, warnings)
    discovery = parse_discovery(ck, data, warnings)
    teams = parse_teams(ck, data, discovered=bool(discovery))
    check_problems(ck, sources, [t.name for t in teams])
    check_discovery(ck, discovery, sources, [t.name for t in teams])
    classes = parse_change_classes(ck, data)
    return Config(
        path=path,
        **{f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)},
        service_aliases=aliases,
        thresholds=thresholds,
        teams=teams,
        sources=sources,
        change_classes=classes,
        warnings=tuple(warnings),
        discovery=discovery,
    )


@dataclass(frozen=True)
class _Settings:
    """The ``[scorecard]`` section."""

    org: str
    window_days: int
    benchmarks: str
    incident_link_hours: float
    production_environments: tuple[str, ...]
    read_only: bool
    history_days: int
    snapshot_days: int
    cache_url: str | None
    cache_endpoint_url: str | None


SCORECARD_KEYS: Final = tuple(f.name for f in dataclasses.fields(_Settings))
"""The keys of ``[scorecard]``: the fields of :class:`Config` it sets."""
_DEFAULTS: Final = Config(path=None)


def _settings(ck: Checker, data: Mapping[str, Any]) -> _Settings:
    k: KeyPath = ("scorecard",)
    sc = ck.table(data, k)
    ck.keys(sc, k, SCORECARD_KEYS)
    org = ck.string(sc, (*k, "org"), _DEFAULTS.org) or _DEFAULTS.org
    window_days = ck.integer(sc, (*k, "window_days"), _DEFAULTS.window_days, low=1, high=3650)
    benchmarks = ck.string(sc, (*k, "benchmarks"), _DEFAULTS.benchmarks) or _DEFAULTS.benchmarks
    if benchmarks not in bands.PRESETS:
        ck.fail(
            (*k, "benchmarks"),
            f"unknown benchmarks preset {describe(benchmarks)}",
            "use one of: " + ", ".join(bands.PRESETS),
        )
    return _Settings(
        org=org,
        window_days=window_days,
        benchmarks=benchmarks,
        incident_link_hours=ck.number(
            sc,
            (*k, "incident_link_hours"),
            _DEFAULTS.incident_link_hours,
            low=0,
            low_exclusive=True,
        ),
        production_environments=_production_environments(ck, sc),
        read_only=ck.boolean(sc, (*k, "read_only"), _DEFAULTS.read_only),
        history_days=ck.integer(sc, (*k, "history_days"), _DEFAULTS.history_days, low=1, high=3650),
        snapshot_days=ck.integer(
            sc, (*k, "snapshot_days"), _DEFAULTS.snapshot_days, low=1, high=3650
        ),
        cache_url=_cache_url(ck, sc),
        cache_endpoint_url=ck.string(sc, (*k, "cache_endpoint_url"), None) or None,
    )


def _cache_url(ck: Checker, sc: Mapping[str, Any]) -> str | None:
    key: KeyPath = ("scorecard", "cache_url")
    url = ck.string(sc, key, None)
    scheme, found, rest = (url or "").partition("://")
    if found and (scheme not in CACHE_SCHEMES or ":" in rest.split("/")[0].rpartition("@")[0]):
        ck.fail(
            key,
            f"must be a path or {', '.join(s + '://' for s in CACHE_SCHEMES)} with no password",
            "credentials come from the environment (AWS_*, GOOGLE_*, AZURE_*), never this file",
        )
    return url


def _production_environments(ck: Checker, sc: Mapping[str, Any]) -> tuple[str, ...]:
    key: KeyPath = ("scorecard", "production_environments")
    if "production_environments" not in sc:
        return _DEFAULTS.production_environments
    envs = ck.str_list(sc, key)
    if not envs:
        ck.fail(
            key,
            "must name at least one environment",
            'e.g. `production_environments = ["production"]`, or remove the line for the default',
        )
    return envs


def _service_aliases(ck: Checker, data: Mapping[str, Any]) -> dict[str, str]:
    aliases = ck.str_table(data, ("service_aliases",))
    for alias_name, target in aliases.items():
        if not target.strip():
            ck.fail(("service_aliases", alias_name), "must not be empty", "name a service")
    return aliases


def _parse_thresholds(ck: Checker, data: Mapping[str, Any]) -> dict[str, Any]:
    raw = ck.table(data, ("thresholds",))
    out: dict[str, Any] = {}
    for name, value in raw.items():
        key: KeyPath = ("thresholds", name)
        if name not in bands.THRESHOLD_KEYS:
            ck.fail(key, "unknown threshold", closest_hint(name, bands.THRESHOLD_KEYS))
        if name in bands.TRIPLE_KEYS:
            out[name] = _triple(ck, key, value)
        else:
            default = float(getattr(bands.PRESETS["dora-2023"], name))
            out[name] = ck.number(raw, key, default, low=0)
    try:
        bands.benchmarks_for("dora-2023", out)
    except (TypeError, ValueError) as exc:  # pragma: no cover - checked above
        ck.fail(("thresholds",), str(exc))
    return out


def _triple(ck: Checker, key: KeyPath, value: object) -> tuple[float, ...]:
    """Three thresholds (elite, high, medium) in the order their name implies."""
    name = str(key[-1])
    if (
        not isinstance(value, list)
        or len(value) != 3
        or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)
    ):
        ck.fail(
            key,
            "expected a list of 3 numbers (elite, high, medium), got "
            + (f"{len(value)} items" if isinstance(value, list) else describe(value)),
            f"e.g. `{name} = {list(getattr(bands.PRESETS['dora-2023'], name))}`",
        )
    triple = tuple(float(v) for v in value)
    for v in triple:
        ck.in_range(key, v, None, None, False)
    descending = name.endswith("_min")
    ordered = (
        triple[0] >= triple[1] >= triple[2] if descending else triple[0] <= triple[1] <= triple[2]
    )
    if not ordered:
        order = "highest first" if descending else "lowest first"
        ck.fail(key, "thresholds must run elite, high, medium in order", f"list them {order}")
    return triple


def _parse_sources(
    ck: Checker, data: Mapping[str, Any], warnings: list[str]
) -> tuple[SourceConfig, ...]:
    raw = ck.table(data, ("sources",))
    out: list[SourceConfig] = []
    for name, body in raw.items():
        key: KeyPath = ("sources", name)
        if not _NAME_RE.match(name):
            ck.fail(
                key,
                "source names may only use letters, digits, `_` and `-`",
                "rename it, e.g. [sources.gh-main]",
            )
        if not isinstance(body, dict):
            ck.fail(
                key,
                f"expected a table, got {describe(body)}",
                f'write it as a [sources.{name}] section with `kind = "..."`',
            )
        out.append(parse_source(ck, name, body, warnings))
    if not out:
        warnings.append(
            "no [sources.*] are configured, so there is no data to show; "
            "add one (see config.example.toml) or try `scorecard demo`"
        )
    return tuple(out)
