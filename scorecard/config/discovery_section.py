"""``[discovery.NAME]`` sections (SPEC §12) as :class:`DiscoveryConfig` objects.

A discovery section is checked like a source section: its ``kind`` picks an
Options class (:data:`scorecard.discovery.options.DISCOVERY_KINDS`) that is its
schema, so unknown keys, wrong types and missing keys fail with file, line and
key. Then what only the whole config knows: a ``source`` must name a configured
source of the kind the Options ask for (``source_kind``), and a section's own
cross-key checks
(:meth:`~scorecard.options.SourceOptions.problems`).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from scorecard.config.checker import Checker, closest_hint, describe
from scorecard.config.model import DiscoveryConfig, SourceConfig
from scorecard.config.options_schema import option_fields, read_options
from scorecard.config.source_section import check_token
from scorecard.config.toml_lines import KeyPath
from scorecard.options import HttpOptions, SourceOptions

__all__ = ["check_discovery", "parse_discovery"]

NAME_RE: Final = re.compile(r"^[A-Za-z0-9_-]+$")
OPTIONS_MODULE: Final = "scorecard.discovery.options"
"""Where each discovery kind declares its Options, imported when a config has a
``[discovery.NAME]`` section (the discovery package builds on config's objects,
so config names it instead of importing it at load time)."""


def discovery_kinds() -> Mapping[str, type[SourceOptions]]:
    """Each discovery ``kind`` and its Options class."""
    module = importlib.import_module(OPTIONS_MODULE)
    return cast("Mapping[str, type[SourceOptions]]", module.DISCOVERY_KINDS)


def parse_discovery(
    ck: Checker, data: Mapping[str, Any], warnings: list[str]
) -> tuple[DiscoveryConfig, ...]:
    """Every ``[discovery.NAME]`` section, each checked against its kind's Options."""
    raw = ck.table(data, ("discovery",))
    return tuple(parse_section(ck, name, body, warnings) for name, body in raw.items())


def parse_section(ck: Checker, name: str, body: object, warnings: list[str]) -> DiscoveryConfig:
    """One section: its name, kind and typed options."""
    key: KeyPath = ("discovery", name)
    if not NAME_RE.match(name):
        ck.fail(
            key,
            "discovery section names may only use letters, digits, `_` and `-`",
            "rename it, e.g. [discovery.catalog]",
        )
    if not isinstance(body, dict):
        ck.fail(
            key,
            f"expected a table, got {describe(body)}",
            f'write it as a [discovery.{name}] section with `kind = "..."`',
        )
    kind = section_kind(ck, key, body)
    cls = discovery_kinds()[kind]

    def connection_read(values: Mapping[str, Any]) -> None:
        if issubclass(cls, HttpOptions):
            check_token(ck, key, values.get("token"), values.get("token_env"), warnings)

    options = read_options(ck, key, kind, cls, body, connection_read=connection_read)
    return DiscoveryConfig(name=name, kind=kind, options=options)


def section_kind(ck: Checker, key: KeyPath, body: Mapping[str, Any]) -> str:
    """The section's ``kind``, one of the discovery kinds."""
    kinds = tuple(discovery_kinds())
    if "kind" not in body:
        ck.fail(
            (*key, "kind"),
            "missing `kind`",
            'add e.g. `kind = "backstage"`; known kinds: ' + ", ".join(kinds),
        )
    kind = ck.string(body, (*key, "kind")) or ""
    if kind not in kinds:
        hint = closest_hint(kind, kinds, "kinds")
        ck.fail((*key, "kind"), f"unknown kind {describe(kind)}", hint)
    return kind


def check_discovery(
    ck: Checker,
    sections: Sequence[DiscoveryConfig],
    sources: Sequence[SourceConfig],
    team_names: Sequence[str],
) -> None:
    """Each section's ``source`` names a source of its kind; its own cross-key checks."""
    kinds = {source.name: source.kind for source in sources}
    for section in sections:
        key: KeyPath = ("discovery", section.name)
        for problem in section.options.problems(team_names):
            fields = {f.name: f.key for f in option_fields(type(section.options))}
            ck.fail((*key, fields.get(problem.key, problem.key)), problem.message, problem.hint)
        check_source_ref(ck, section, kinds)


def check_source_ref(ck: Checker, section: DiscoveryConfig, kinds: Mapping[str, str]) -> None:
    """A section's ``source`` names a configured source of its Options' ``source_kind``."""
    source = getattr(section.options, "source", None)
    wanted = str(getattr(type(section.options), "source_kind", ""))
    if source is None or not wanted:
        return
    key: KeyPath = ("discovery", section.name, "source")
    known = [name for name, kind in kinds.items() if kind == wanted]
    if source not in kinds:
        hint = closest_hint(source, known, f"{wanted} sources") if known else None
        ck.fail(key, f"no source named `{source}` in the config", hint or f"add a {wanted} source")
    if kinds[source] != wanted:
        ck.fail(
            key,
            f"source `{source}` is a {kinds[source]} source; a {section.kind} section "
            f"reads through a {wanted} source",
            f'name a `kind = "{wanted}"` source',
        )
