"""Teams from a Backstage software catalog.

Companies that run Backstage already say there who owns each component, so
scorecard reads it instead of asking for a second list (SPEC §12): every
``Group`` that owns at least one ``Component`` is a team named by its
``metadata.name``; the component's annotations give the team's repo
(``github.com/project-slug`` or ``gitlab.com/project-slug``), services (its name
and ``backstage.io/kubernetes-id``) and PagerDuty service
(``pagerduty.com/service-id``). A component owned by a ``User``, or by a group
the catalog does not have, is reported, not guessed.

Entities come from a folder of catalog YAML files (multi-document, as Backstage
writes them; read with PyYAML's safe loader) or from the catalog API, whose
paging (``GET /api/catalog/entities/by-query``, cursor-based) runs on an
injected ``get_json`` so the sync can use the project's HTTP client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from scorecard.discovery.model import DiscoveredTeam, Discovery, Problem
from scorecard.errors import PaginationLoop
from scorecard.text import printable

__all__ = [
    "ENTITIES_PATH",
    "EntityRef",
    "GetJson",
    "discover_backstage",
    "entities_from_pages",
    "fetch_entities",
    "load_entities",
    "parse_ref",
]

GetJson = Callable[[str, Mapping[str, Any]], Awaitable[Any]]
"""``await get_json(path, params)``: the decoded JSON body of ``GET path``."""

ENTITIES_PATH: Final = "/api/catalog/entities/by-query"
"""The catalog's paginated listing (``/entities`` without paging is deprecated)."""

ENTITY_FIELDS: Final = (
    "apiVersion,kind,metadata.name,metadata.namespace,metadata.annotations,spec.owner"
)
"""Only what discovery reads: keeps pages small on a large catalog."""

REPO_ANNOTATIONS: Final = ("github.com/project-slug", "gitlab.com/project-slug")
KUBERNETES_ID: Final = "backstage.io/kubernetes-id"
PAGERDUTY_ID: Final = "pagerduty.com/service-id"
MAX_PAGES: Final = 10_000

SAFE_LOADER: Final[type[yaml.SafeLoader]] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader (libyaml's when built with it: the same rules, faster on a
large catalog): plain data only, never a Python object from a tag."""


@dataclass(frozen=True)
class EntityRef:
    """A catalog entity reference ``kind:namespace/name`` (kind lower-cased)."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"

    def folded(self) -> EntityRef:
        """The reference as Backstage compares it: case-insensitively."""
        return EntityRef(self.kind.casefold(), self.namespace.casefold(), self.name.casefold())


def parse_ref(
    ref: str, *, default_kind: str = "group", default_namespace: str = "default"
) -> EntityRef:
    """``name``, ``kind:name``, ``namespace/name`` or ``kind:namespace/name``, the
    missing parts filled in as Backstage does for ``spec.owner`` (kind ``group``,
    the component's own namespace)."""
    kind, colon, rest = ref.partition(":")
    if not colon:
        kind, rest = default_kind, ref
    namespace, slash, name = rest.partition("/")
    if not slash:
        namespace, name = default_namespace, rest
    return EntityRef(kind.strip().lower(), namespace.strip(), name.strip())


def entity_ref(entity: Mapping[str, Any]) -> EntityRef:
    """The reference of an entity read from the catalog."""
    metadata = entity.get("metadata") or {}
    return EntityRef(
        str(entity.get("kind", "")).lower(),
        str(metadata.get("namespace") or "default"),
        str(metadata.get("name", "")),
    )


def is_entity(doc: Any) -> bool:
    """A catalog entity: a mapping with ``apiVersion``, ``kind`` and ``metadata.name``."""
    if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
        return False
    metadata = doc.get("metadata")
    return isinstance(metadata, dict) and bool(metadata.get("name"))


def load_entities(
    folder: Path, *, section: str = "discovery.catalog"
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Every entity in the ``*.yaml``/``*.yml`` files under ``folder`` (sorted by
    path, documents in file order; ``folder`` may be one file); other documents
    are skipped, and a file that is not YAML is a problem, not a crash."""
    entities: list[dict[str, Any]] = []
    problems: list[Problem] = []
    found = [folder] if folder.is_file() else folder.rglob("*")
    files = sorted(p for p in found if p.suffix in {".yaml", ".yml"} and p.is_file())
    if not files:
        problems.append(Problem(section, "no *.yaml catalog files found", str(folder)))
    for path in files:
        try:
            docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            what = printable(" ".join(str(exc).split()))
            problems.append(Problem(section, f"not readable as catalog YAML: {what}", str(path)))
            continue
        entities.extend(doc for doc in docs if is_entity(doc))
    return entities, problems


def entities_from_pages(pages: Iterable[Any]) -> list[dict[str, Any]]:
    """The entities in catalog API answers: ``by-query`` pages (``{"items": [...]}``)
    or the legacy ``/entities`` arrays; anything else in them is skipped."""
    found: list[dict[str, Any]] = []
    for page in pages:
        items = page.get("items") if isinstance(page, dict) else page
        if isinstance(items, list):
            found.extend(item for item in items if is_entity(item))
    return found


async def fetch_entities(get_json: GetJson, *, limit: int = 500) -> list[Any]:
    """Every Group and Component page of the catalog API, in order.

    The first request filters and picks fields; each next one sends only the
    ``pageInfo.nextCursor`` of the page before (the cursor carries the query).
    A cursor seen twice raises :class:`~scorecard.errors.PaginationLoop`."""
    params: dict[str, Any] = {
        "filter": ["kind=group", "kind=component"],
        "fields": ENTITY_FIELDS,
        "limit": limit,
    }
    pages: list[Any] = []
    seen: set[str] = set()
    while True:
        page = await get_json(ENTITIES_PATH, params)
        pages.append(page)
        info = page.get("pageInfo") if isinstance(page, dict) else None
        cursor = info.get("nextCursor") if isinstance(info, dict) else None
        if not cursor:
            return pages
        if cursor in seen:
            raise PaginationLoop(f"pagination loop in {ENTITIES_PATH}: cursor {cursor} repeated")
        if len(pages) >= MAX_PAGES:
            raise PaginationLoop(f"more than {MAX_PAGES} pages in {ENTITIES_PATH}; stopped")
        seen.add(cursor)
        params = {"cursor": cursor, "fields": ENTITY_FIELDS, "limit": limit}


def discover_backstage(
    entities: Iterable[Mapping[str, Any]], *, section: str = "discovery.catalog"
) -> Discovery:
    """Teams from catalog entities (SPEC §12), in the order their groups appear."""
    entity_list = list(entities)
    groups = {entity_ref(e).folded(): e for e in entity_list if entity_ref(e).kind == "group"}
    owned: dict[EntityRef, list[Mapping[str, Any]]] = {}
    problems: list[Problem] = []
    for component in (e for e in entity_list if entity_ref(e).kind == "component"):
        owner, problem = component_owner(component, groups, section)
        if owner is None:
            problems.append(problem or Problem(section, "no owner", str(entity_ref(component))))
            continue
        owned.setdefault(owner, []).append(component)
    teams = tuple(
        team_of(entity_ref(group).name, owned[ref]) for ref, group in groups.items() if ref in owned
    )
    return Discovery(section, teams, tuple(problems))


def component_owner(
    component: Mapping[str, Any], groups: Mapping[EntityRef, Any], section: str
) -> tuple[EntityRef | None, Problem | None]:
    """The group owning ``component``, or why there is none."""
    ref = entity_ref(component)
    spec = component.get("spec") or {}
    raw = spec.get("owner") if isinstance(spec, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        return None, Problem(section, "has no spec.owner", str(ref))
    owner = parse_ref(raw, default_namespace=ref.namespace)
    if owner.kind == "user":
        what = f"owned by user `{printable(raw)}`, not a group: assign it to a team"
        return None, Problem(section, what, str(ref))
    if owner.kind != "group":
        what = f"owner `{printable(raw)}` is a {printable(owner.kind)}, not a group"
        return None, Problem(section, what, str(ref))
    if owner.folded() not in groups:
        what = f"owner group `{printable(raw)}` is not in the catalog ({owner})"
        return None, Problem(section, what, str(ref))
    return owner.folded(), None


def team_of(name: str, components: Iterable[Mapping[str, Any]]) -> DiscoveredTeam:
    """A group's team: the repos, services and PagerDuty services of its components."""
    repos: list[str] = []
    services: list[str] = []
    pagerduty: list[str] = []
    for component in components:
        annotations = annotations_of(component)
        repos.extend(annotations[key] for key in REPO_ANNOTATIONS if annotations.get(key))
        services.append(entity_ref(component).name)
        if annotations.get(KUBERNETES_ID):
            services.append(annotations[KUBERNETES_ID])
        if annotations.get(PAGERDUTY_ID):
            pagerduty.append(annotations[PAGERDUTY_ID])
    return DiscoveredTeam(
        name,
        repos=unique(repos),
        services=unique(services),
        pagerduty_services=unique(pagerduty),
    )


def annotations_of(entity: Mapping[str, Any]) -> dict[str, str]:
    """``metadata.annotations`` with string values, stripped."""
    metadata = entity.get("metadata") or {}
    raw = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(raw, dict):
        return {}
    return {str(k): v.strip() for k, v in raw.items() if isinstance(v, str) and v.strip()}


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """``values`` without repeats, first occurrence kept."""
    return tuple(dict.fromkeys(values))
