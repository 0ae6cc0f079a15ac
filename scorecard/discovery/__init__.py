"""Teams from where ownership already lives (SPEC §12).

Large orgs do not hand-list every repo: a Backstage catalog, GitHub's org
teams and CODEOWNERS files already say who owns what. Each source here turns
its answer into a :class:`~scorecard.discovery.model.Discovery` (teams plus the
problems it could not place), and :func:`~scorecard.discovery.model.resolve`
merges them with the explicit ``[[teams]]``, which always win.

Modules: :mod:`.model` (the map, problems, precedence), :mod:`.backstage`
(catalog YAML and API), :mod:`.github_teams` (org teams and permissions),
:mod:`.codeowners` (GitHub's CODEOWNERS rules), :mod:`.monorepo` (owners to
teams; whose change, deployment or CI run in a shared repo), :mod:`.options`
(each section kind's keys). No I/O beyond reading the files asked for; HTTP
runs on an injected callable.
"""

from __future__ import annotations

from scorecard.discovery.model import (
    DiscoveredTeam,
    Discovery,
    OwnedPath,
    Problem,
    Resolution,
    Row,
    resolve,
)

__all__ = [
    "DiscoveredTeam",
    "Discovery",
    "OwnedPath",
    "Problem",
    "Resolution",
    "Row",
    "resolve",
]
