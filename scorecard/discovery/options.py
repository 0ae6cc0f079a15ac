"""The settings of each ``[discovery.NAME]`` kind, as typed Options classes.

SPEC §12 adds three kinds of section. Declaring each one's keys once, the way
sources declare theirs (:mod:`scorecard.options`: type, default, a docstring
per field, checks), lets the config checker validate a ``[discovery.NAME]``
section with the same machinery, file:line:key errors included; checks that
span keys live in :meth:`problems`, and ``source_kind`` says which kind of
source a section's ``source`` must name. The config imports this module by name
when it reads a ``[discovery.NAME]`` section (as the source registry imports a
source's module), so config never imports the discovery package at load time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Final

from scorecard.discovery.github_teams import DEFAULT_PERMISSIONS, normalize_permissions
from scorecard.options import HttpOptions, OptionProblem, SourceOptions, option

__all__ = [
    "DISCOVERY_KINDS",
    "BackstageOptions",
    "CodeownersOptions",
    "GithubTeamsOptions",
]


@dataclass(frozen=True, kw_only=True)
class BackstageOptions(HttpOptions):
    """Options of a `kind = "backstage"` discovery section."""

    url_key: ClassVar[str] = "url"

    path: Path | None = option(None, check="path", example='"catalog/"')  # noqa: RUF009
    """A folder of Backstage entity YAML files (multi-document), or one such file;
    relative to the config file's folder."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        """Exactly one of ``path`` and ``url``."""
        if (self.path is None) == (self.api_url is None):
            yield OptionProblem(
                "path",
                "a backstage section reads either a folder (`path`) or the catalog API (`url`)",
                'write one of `path = "catalog/"` or `url = "https://backstage.acme.com"`',
            )


@dataclass(frozen=True, kw_only=True)
class GithubTeamsOptions(SourceOptions):
    """Options of a `kind = "github-teams"` discovery section."""

    source_kind: ClassVar[str] = "github"
    """The kind of source `source` must name (the config checks it)."""

    source: str = option(required=True, example='"gh"')
    """The github source whose `api_url` and token are used."""
    org: str = option(required=True, example='"acme"')
    """The GitHub organization whose teams become teams."""
    permissions: tuple[str, ...] = DEFAULT_PERMISSIONS
    """A team owns the repos it holds one of these permissions on (`admin`,
    `maintain`, `push` or `write`, `triage`, `pull` or `read`)."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        """Known permission names, at least one."""
        try:
            known = normalize_permissions(self.permissions)
        except ValueError as exc:
            yield OptionProblem("permissions", str(exc), 'e.g. `permissions = ["admin"]`')
            return
        if not known:
            yield OptionProblem(
                "permissions", "no permission listed", 'e.g. `permissions = ["admin"]`'
            )


@dataclass(frozen=True, kw_only=True)
class CodeownersOptions(SourceOptions):
    """Options of a `kind = "codeowners"` discovery section."""

    source_kind: ClassVar[str] = "github"
    """The kind of source `source` must name (the config checks it)."""

    source: str | None = option(None, example='"gh"')
    """The github source to read each repo's CODEOWNERS through."""
    repos: tuple[str, ...] = ()
    """The repos (`owner/repo`) whose CODEOWNERS is read through `source`."""
    files: Mapping[str, str] = field(default_factory=dict)
    """Local copies instead: `{ "owner/repo" = "path" }`, each a CODEOWNERS file or a
    checkout (searched in GitHub's order), relative to the config file's folder."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        """Something to read; ``repos`` only with a ``source``."""
        if not self.repos and not self.files:
            yield OptionProblem(
                "repos",
                "a codeowners section needs `repos` (with `source`) or `files`",
                'add `repos = ["acme/monorepo"]` and `source = "gh"`',
            )
        if self.repos and self.source is None:
            yield OptionProblem(
                "source",
                "`repos` are read through a github source",
                'add `source = "gh"`, or list local copies in `files`',
            )


DISCOVERY_KINDS: Final[Mapping[str, type[SourceOptions]]] = {
    "backstage": BackstageOptions,
    "github-teams": GithubTeamsOptions,
    "codeowners": CodeownersOptions,
}
"""Each ``kind`` of a ``[discovery.NAME]`` section and its Options class."""
