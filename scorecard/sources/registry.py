"""Which source kinds exist, each kind's ``Options`` (its config schema), and
building a source from its config.

A kind is a module ``scorecard.sources.<kind>`` whose source class registers
itself with :func:`register` and declares ``kind`` and ``Options``. The config
checker asks :func:`options_class` for a section's schema and never names a
kind itself. Cheap to import, and asking for an ``Options`` class imports only
the kind's module, never pandas or httpx: config loading (and so the TUI's
first paint) must not wait for them.
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

from scorecard.errors import FatalSourceError
from scorecard.options import SourceOptions

if TYPE_CHECKING:
    from scorecard.config import Config, SourceConfig
    from scorecard.sources.contract import Source

__all__ = [
    "KNOWN_KINDS",
    "SourceFactory",
    "build_source",
    "known_kinds",
    "options_class",
    "register",
    "registered_kinds",
]

KNOWN_KINDS: Final[tuple[str, ...]] = (
    "github",
    "gitlab",
    "azure-devops",
    "bitbucket",
    "circleci",
    "buildkite",
    "jenkins",
    "argocd",
    "pagerduty",
    "incidentio",
    "opsgenie",
    "datadog",
    "sentry",
    "servicenow",
    "grafana-oncall",
    "codecov",
    "prometheus",
    "alertmanager",
    "files",
    "demo",
)
"""Every kind a config may name (SPEC §5), in the order the docs list them."""


class SourceFactory(Protocol):
    """A source class: its kind, its options schema, and a constructor."""

    kind: str
    Options: type[SourceOptions]

    def __call__(self, cfg: SourceConfig, *, strict: bool = False) -> Source: ...


class Kinded(Protocol):
    """Anything that names the kind it builds (a source class)."""

    kind: str


_F = TypeVar("_F", bound=Kinded)

_REGISTRY: dict[str, Any] = {}


def register(factory: _F) -> _F:
    """Class decorator: sources of the class's ``kind`` are built by the class."""
    _REGISTRY[factory.kind] = factory
    return factory


def known_kinds() -> tuple[str, ...]:
    """Every kind a config may name, in the documented order."""
    return KNOWN_KINDS


def registered_kinds() -> tuple[str, ...]:
    """Kinds whose modules have been imported and registered, sorted."""
    return tuple(sorted(_REGISTRY))


def factory_for(kind: str, *, name: str | None = None) -> SourceFactory:
    """The class that builds ``kind`` sources, importing its module on first use.

    :class:`FatalSourceError` for a kind nobody knows or one without a module.
    """
    label = f"source '{name}': " if name is not None else ""
    factory = _REGISTRY.get(kind)
    if factory is not None:
        registered: SourceFactory = factory
        return registered
    if kind not in known_kinds():
        known = ", ".join(known_kinds())
        raise FatalSourceError(f"{label}unknown kind '{kind}' (known kinds: {known})")
    module = f"scorecard.sources.{kind.replace('-', '_')}"  # azure-devops -> azure_devops
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
    factory = _REGISTRY.get(kind)
    if factory is None:
        raise FatalSourceError(f"{label}kind '{kind}' is not supported yet in this version")
    found: SourceFactory = factory
    return found


def options_class(kind: str) -> type[SourceOptions]:
    """The ``Options`` dataclass of ``kind``: the schema of its config section."""
    return factory_for(kind).Options


def _accepts_config(factory: Any) -> bool:
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return "config" in parameters


def build_source(
    cfg: SourceConfig, *, config: Config | None = None, strict: bool = False
) -> Source:
    """A ready-to-fetch source for ``cfg``.

    ``strict`` (the ``--strict`` flag) makes bad input fatal on top of the
    source's own ``strict`` setting. ``config`` (the whole config) goes to the
    sources that take it: API sources need the teams' repos and services.
    Unknown or not-yet-implemented kinds raise :class:`FatalSourceError`.
    """
    factory: Any = factory_for(cfg.kind, name=cfg.name)
    if config is not None and _accepts_config(factory):
        built: Source = factory(cfg, strict=strict, config=config)
    else:
        built = factory(cfg, strict=strict)
    return built
