"""Transitional: each source kind's keys and defaults, until every kind's
``Options`` class (scorecard.sources.registry) is the config schema.

Will be deleted once config validates a ``[sources.NAME]`` section from its
kind's Options; nothing outside scorecard.config should import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

KNOWN_KINDS: Final[tuple[str, ...]] = (
    "github",
    "gitlab",
    "pagerduty",
    "incidentio",
    "opsgenie",
    "codecov",
    "prometheus",
    "alertmanager",
    "files",
    "demo",
)
HTTP_KINDS: Final[frozenset[str]] = frozenset(KNOWN_KINDS) - {"files", "demo"}
URL_KINDS: Final[frozenset[str]] = frozenset({"prometheus", "alertmanager"})

DEFAULT_API_URLS: Final[Mapping[str, str]] = {
    "github": "https://api.github.com",
    "gitlab": "https://gitlab.com/api/v4",
    "pagerduty": "https://api.pagerduty.com",
    "incidentio": "https://api.incident.io",
    "opsgenie": "https://api.opsgenie.com",
    "codecov": "https://api.codecov.io",
}
OPSGENIE_EU_URL: Final = "https://api.eu.opsgenie.com"

HTTP_COMMON: Final = frozenset(
    {
        "api_url",
        "token",
        "token_env",
        "timeout_s",
        "max_concurrency",
        "allow_insecure",
        "refresh_minutes",
        "max_wait_s",
    }
)
_MONITORING: Final = (HTTP_COMMON - {"api_url"}) | {
    "url",
    "auth",
    "username",
    "headers",
    "queries",
    "alert_severity_label",
    "alert_min_minutes",
    "alert_incidents",
    "alert_teams",
    "alert_service_label",
    "severity_map",
}
SOURCE_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "github": HTTP_COMMON | {"deploy_workflows", "canary_environments", "rollback_patterns"},
    "gitlab": HTTP_COMMON | {"deploy_jobs", "canary_environments", "rollback_patterns"},
    "pagerduty": HTTP_COMMON | {"severity_map", "team_ids", "deployment_link_pattern"},
    "incidentio": HTTP_COMMON
    | {
        "team_field",
        "service_field",
        "severity_map",
        "deployment_link_pattern",
        "deployment_field",
    },
    "opsgenie": HTTP_COMMON
    | {"region", "use_alerts", "severity_map", "deployment_link_pattern", "deployment_field"},
    "codecov": HTTP_COMMON | {"service", "owner", "branch"},
    "prometheus": _MONITORING,
    "alertmanager": _MONITORING,
    "files": frozenset({"path", "strict", "refresh_minutes"}),
    "demo": frozenset({"seed", "refresh_minutes"}),
}

CODECOV_SERVICES: Final = (
    "github",
    "gitlab",
    "bitbucket",
    "github_enterprise",
    "gitlab_enterprise",
    "bitbucket_server",
)

# Kind-specific keys that end up in SourceConfig.options, by value shape.
LIST_OPTIONS: Final = frozenset(
    {"deploy_workflows", "canary_environments", "deploy_jobs", "team_ids", "alert_teams"}
)
REGEX_LIST_OPTIONS: Final = frozenset({"rollback_patterns"})
STR_OPTIONS: Final = frozenset(
    {
        "team_field",
        "service_field",
        "owner",
        "username",
        "alert_severity_label",
        "alert_service_label",
        "deployment_field",
        "branch",
    }
)
REGEX_OPTIONS: Final = frozenset({"deployment_link_pattern"})
CHOICE_OPTIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "region": ("us", "eu"),
    "auth": ("bearer", "basic"),
    "service": CODECOV_SERVICES,
}
OPTION_DEFAULTS: Final[Mapping[str, Mapping[str, Any]]] = {
    "codecov": {"service": "github"},
    "opsgenie": {"region": "us", "use_alerts": False},
    "prometheus": {"auth": "bearer"},
    "alertmanager": {"auth": "bearer"},
}
