"""Config loading and validation: every mistake names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from scorecard import bands
from scorecard.config import (
    Config,
    ConfigError,
    default_config_path,
    find_config_path,
    load_config,
    parse_config,
    starter_config_text,
    write_starter_config,
)
from scorecard.sources.registry import known_kinds, options_class

ROOT = Path(__file__).resolve().parent.parent
TEAM = '[[teams]]\nname = "Payments"\nrepos = ["acme/pay"]\n'

# (id, config text, expected line, expected dotted key, a fragment of the message)
MALFORMED: list[tuple[str, str, int, str, str]] = [
    (
        "toml-syntax-unclosed-string",
        '[scorecard]\nwindow_days = 30\norg = "Acme\n' + TEAM,
        3,
        "scorecard.org",
        "TOML syntax error",
    ),
    (
        "toml-syntax-missing-equals",
        '[scorecard]\n\n[sources.gh]\nkind "github"\n' + TEAM,
        4,
        "sources.gh",
        "TOML syntax error",
    ),
    (
        "unknown-top-level-key",
        'colour = "blue"\n' + TEAM,
        1,
        "colour",
        "unknown key",
    ),
    (
        "unknown-team-key-after-team-table",
        TEAM + 'colour = "blue"\n',
        4,
        "teams[0].colour",
        "known keys: coverage_repos",
    ),
    (
        "unknown-scorecard-key-suggests",
        "[scorecard]\nwindow_days = 30\nwindow_dayz = 7\n" + TEAM,
        3,
        "scorecard.window_dayz",
        "did you mean `window_days`",
    ),
    (
        "unknown-top-table",
        '[sorces.gh]\nkind = "github"\n' + TEAM,
        1,
        "sorces",
        "did you mean `sources`",
    ),
    (
        "unknown-source-key-suggests",
        '[sources.gh]\nkind = "github"\ntimout_s = 5\n' + TEAM,
        3,
        "sources.gh.timout_s",
        "did you mean `timeout_s`",
    ),
    (
        "option-of-other-kind",
        '[sources.gh]\nkind = "github"\nregion = "eu"\n' + TEAM,
        3,
        "sources.gh.region",
        "unknown key",
    ),
    (
        "timeout-string",
        '[sources.gh]\nkind = "github"\n\ntimeout_s = "fast"\n' + TEAM,
        4,
        "sources.gh.timeout_s",
        'expected a number, got "fast"',
    ),
    (
        "timeout-bool-is-not-a-number",
        '[sources.gh]\nkind = "github"\ntimeout_s = true\n' + TEAM,
        3,
        "sources.gh.timeout_s",
        "expected a number",
    ),
    (
        "timeout-zero",
        '[sources.gh]\nkind = "github"\ntimeout_s = 0\n' + TEAM,
        3,
        "sources.gh.timeout_s",
        "out of range",
    ),
    (
        "max-concurrency-zero",
        '[sources.gh]\nkind = "github"\nmax_concurrency = 0\n' + TEAM,
        3,
        "sources.gh.max_concurrency",
        "out of range",
    ),
    (
        "window-days-too-big",
        "[scorecard]\nwindow_days = 5000\n" + TEAM,
        2,
        "scorecard.window_days",
        "out of range",
    ),
    (
        "window-days-float",
        "[scorecard]\nwindow_days = 7.5\n" + TEAM,
        2,
        "scorecard.window_days",
        "whole number",
    ),
    (
        "incident-link-hours-negative",
        "[scorecard]\nincident_link_hours = -1\n" + TEAM,
        2,
        "scorecard.incident_link_hours",
        "out of range",
    ),
    (
        "read-only-string",
        '[scorecard]\nread_only = "yes"\n' + TEAM,
        2,
        "scorecard.read_only",
        "expected true or false",
    ),
    (
        "repos-not-a-list",
        '[[teams]]\nname = "Payments"\nrepos = "acme/pay"\n',
        3,
        "teams[0].repos",
        "expected a list of strings",
    ),
    (
        "repos-number-item",
        '[[teams]]\nname = "Payments"\nrepos = ["acme/pay", 3]\n',
        3,
        "teams[0].repos",
        "an item is 3",
    ),
    (
        "unknown-kind",
        '[sources.gh]\nkind = "githubb"\n' + TEAM,
        2,
        "sources.gh.kind",
        "did you mean `github`",
    ),
    (
        "missing-kind",
        '[sources.gh]\ntoken = "keyring"\n' + TEAM,
        1,
        "sources.gh.kind",
        "missing `kind`",
    ),
    (
        "unknown-benchmarks",
        '[scorecard]\nbenchmarks = "dora-1999"\n' + TEAM,
        2,
        "scorecard.benchmarks",
        "dora-2023",
    ),
    (
        "unknown-threshold",
        "[thresholds]\ncoverage_minimum = [80, 70, 60]\n" + TEAM,
        2,
        "thresholds.coverage_minimum",
        "did you mean `coverage_min`",
    ),
    (
        "threshold-triple-two-numbers",
        "[thresholds]\ncoverage_min = [80, 70]\n" + TEAM,
        2,
        "thresholds.coverage_min",
        "got 2 items",
    ),
    (
        "threshold-triple-wrong-order",
        "[thresholds]\nlead_time_hours_under = [720, 168, 24]\n" + TEAM,
        2,
        "thresholds.lead_time_hours_under",
        "in order",
    ),
    (
        "threshold-scalar-string",
        '[thresholds]\ngap_outpacing = "25"\n' + TEAM,
        2,
        "thresholds.gap_outpacing",
        "expected a number",
    ),
    (
        "no-teams",
        '[scorecard]\norg = "Acme"\n',
        1,
        "teams",
        "no [[teams]]",
    ),
    (
        "teams-as-table",
        '[teams.payments]\nrepos = ["a/b"]\n',
        1,
        "teams",
        "array of tables",
    ),
    (
        "team-without-name",
        TEAM + '\n[[teams]]\nrepos = ["acme/search"]\n',
        5,
        "teams[1].name",
        "no `name`",
    ),
    (
        "duplicate-team-name",
        TEAM + '\n[[teams]]\nname = "payments"\n',
        6,
        "teams[1].name",
        "duplicate team name",
    ),
    (
        "repo-claimed-twice",
        TEAM + '\n[[teams]]\nname = "Search"\nrepos = ["acme/search", "Acme/Pay"]\n',
        7,
        "teams[1].repos",
        "claimed by teams `Payments` and `Search`",
    ),
    (
        "service-claimed-twice",
        '[[teams]]\nname = "A"\nservices = ["api"]\n[[teams]]\nname = "B"\nservices = ["api"]\n',
        6,
        "teams[1].services",
        "claimed by teams `A` and `B`",
    ),
    (
        "empty-production-environments",
        "[scorecard]\nproduction_environments = []\n" + TEAM,
        2,
        "scorecard.production_environments",
        "at least one",
    ),
    (
        "plain-http-api-url",
        '[sources.gl]\nkind = "gitlab"\napi_url = "http://gitlab.acme.com/api/v4"\n' + TEAM,
        3,
        "sources.gl.api_url",
        "plain http",
    ),
    (
        "plain-http-prometheus-url",
        '[sources.prom]\nkind = "prometheus"\nurl = "http://prom.acme.com"\n' + TEAM,
        3,
        "sources.prom.url",
        "allow_insecure",
    ),
    (
        "api-url-not-a-url",
        '[sources.gh]\nkind = "github"\napi_url = "api.github.com"\n' + TEAM,
        3,
        "sources.gh.api_url",
        "not an http(s) URL",
    ),
    (
        "files-without-path",
        '[sources.local]\nkind = "files"\nstrict = true\n' + TEAM,
        1,
        "sources.local.path",
        "needs `path`",
    ),
    (
        "token-and-token-env",
        '[sources.gh]\nkind = "github"\ntoken = "keyring"\ntoken_env = "GITHUB_TOKEN"\n' + TEAM,
        4,
        "sources.gh.token_env",
        "both `token` and `token_env`",
    ),
    (
        "change-class-without-matcher",
        TEAM + '\n[change_classes.ai]\nrequired_workflow = "evals"\n',
        5,
        "change_classes.ai",
        "matches nothing",
    ),
    (
        "change-class-bad-regex",
        TEAM + '\n[change_classes.ai]\ntitle_patterns = ["(unclosed"]\n',
        6,
        "change_classes.ai.title_patterns",
        "regular expression",
    ),
    (
        "source-name-with-space",
        '[sources."my github"]\nkind = "github"\n' + TEAM,
        1,
        'sources."my github"',
        "letters, digits",
    ),
    (
        "opsgenie-bad-region",
        '[sources.og]\nkind = "opsgenie"\nregion = "apac"\n' + TEAM,
        3,
        "sources.og.region",
        "use one of: us, eu",
    ),
    (
        "pagerduty-bad-severity",
        '[sources.pd]\nkind = "pagerduty"\n\n[sources.pd.severity_map]\nP1 = "critical"\n' + TEAM,
        5,
        "sources.pd.severity_map.P1",
        "sev1",
    ),
    (
        "source-not-a-table",
        'sources.gh = "github"\n' + TEAM,
        1,
        "sources.gh",
        "expected a table",
    ),
    (
        "second-team-unknown-key-in-multiline-array",
        TEAM
        + '\n[[teams]]\nname = "Search"\nrepos = [\n  "acme/search",\n  "acme/index",\n]\n'
        + 'service = ["search"]\n',
        11,
        "teams[1].service",
        "did you mean `services`",
    ),
    (
        "dotted-key-in-root",
        TEAM + '\n[sources]\ngh.kind = "github"\ngh.timeout_s = -3\n',
        7,
        "sources.gh.timeout_s",
        "out of range",
    ),
    (
        "team-reserved-name",
        '[[teams]]\nname = "unassigned"\n',
        2,
        "teams[0].name",
        "reserved",
    ),
    (
        "basic-auth-without-username",
        '[sources.am]\nkind = "alertmanager"\nurl = "http://localhost:9093"\nauth = "basic"\n'
        + TEAM,
        1,
        "sources.am.username",
        "needs `username`",
    ),
    (
        "prometheus-without-url",
        '[sources.prom]\nkind = "prometheus"\n' + TEAM,
        1,
        "sources.prom.url",
        "needs `url`",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "key", "fragment"),
    [pytest.param(t, ln, k, f, id=i) for i, t, ln, k, f in MALFORMED],
)
def test_malformed_config_names_file_line_and_key(
    text: str, line: int, key: str, fragment: str
) -> None:
    path = Path("config.toml")
    with pytest.raises(ConfigError) as info:
        parse_config(text, path)
    message = str(info.value)
    assert message.startswith(f"config.toml:{line}: "), message
    assert f":{line}:" in message
    assert f" {key}: " in message, message
    assert fragment in message, message
    assert "\n" not in message
    assert info.value.line == line
    assert info.value.key == key


def test_there_are_at_least_twenty_malformed_cases() -> None:
    assert len(MALFORMED) >= 20
    assert len({case[0] for case in MALFORMED}) == len(MALFORMED)


def test_config_error_format_matches_the_documented_shape() -> None:
    err = ConfigError(
        'expected a number, got "fast"',
        path=Path("config.toml"),
        line=12,
        key="sources.gh.timeout_s",
        hint="write a number without quotes",
    )
    assert str(err) == (
        'config.toml:12: sources.gh.timeout_s: expected a number, got "fast". '
        "Fix: write a number without quotes"
    )
    assert str(ConfigError("boom")) == "boom"


def test_plain_http_allowed_for_localhost_and_with_allow_insecure() -> None:
    text = (
        '[sources.a]\nkind = "prometheus"\nurl = "http://127.0.0.1:9090"\n'
        '[sources.b]\nkind = "gitlab"\napi_url = "http://gitlab.lan/api/v4"\n'
        "allow_insecure = true\n"
        '[sources.c]\nkind = "alertmanager"\nurl = "http://[::1]:9093/"\n' + TEAM
    )
    config = parse_config(text)
    assert config.source("a").options.api_url == "http://127.0.0.1:9090"
    assert config.source("b").options.allow_insecure is True
    assert config.source("c").options.api_url == "http://[::1]:9093"


FULL = """\
[scorecard]
org = "Acme"
window_days = 14
benchmarks = "dora-2024"
incident_link_hours = 12.5
production_environments = ["prod"]
read_only = true
history_days = 90

[thresholds]
coverage_min = [85, 75, 65]
gap_outpacing = 30

[service_aliases]
"Payments API" = "payments-api"

[sources.gh]
kind = "github"
token_env = "GH_TOKEN"
timeout_s = 10
max_concurrency = 8
refresh_minutes = 15
deploy_workflows = ["deploy"]

[sources.og]
kind = "opsgenie"
token = "keyring"
region = "eu"

[sources.cov]
kind = "codecov"
token = "keyring"

[sources.local]
kind = "files"
path = "data/exports"
strict = true

[[teams]]
name = "Payments"
repos = ["acme/pay"]
services = ["payments-api"]
pagerduty_services = ["P123"]

[[teams]]
name = "Search"
repos = ["acme/search"]
coverage_repos = ["search-legacy"]
opsgenie_teams = ["search-oncall"]
incidentio_teams = ["Search"]

[change_classes.ai]
repos = ["acme/ranker"]
labels = ["ai"]
paths = ["prompts/**"]
title_patterns = ["(?i)prompt"]
required_workflow = "evals"
gated_floor = 0.75
"""


def test_full_config_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(FULL, encoding="utf-8")
    config = load_config(path)
    assert isinstance(config, Config)
    assert config.path == path
    assert (config.org, config.window_days, config.benchmarks) == ("Acme", 14, "dora-2024")
    assert config.incident_link_hours == 12.5
    assert config.production_environments == ("prod",)
    assert config.read_only is True
    assert config.history_days == 90
    assert dict(config.service_aliases) == {"Payments API": "payments-api"}
    assert config.thresholds["coverage_min"] == (85.0, 75.0, 65.0)
    assert config.warnings == ()

    bench = config.bench()
    assert bench.name == "dora-2024"
    assert bench.coverage_min == (85.0, 75.0, 65.0)
    assert bench.gap_outpacing == 30.0
    assert bench.change_failure_rate_max == bands.PRESETS["dora-2024"].change_failure_rate_max

    gh = config.source("gh")
    assert (gh.kind, gh.options.token_env, gh.options.token) == ("github", "GH_TOKEN", None)
    assert gh.options.api_url is None  # not written: the vendor's public API
    assert gh.options.base_url == options_class("github").default_api_url
    assert gh.options.base_url == "https://api.github.com"
    assert (gh.options.timeout_s, gh.options.max_concurrency) == (10.0, 8)
    assert gh.options.refresh_minutes == 15.0
    assert gh.options.deploy_workflows == ("deploy",)
    og = config.source("og")
    assert og.options.base_url == "https://api.eu.opsgenie.com"
    assert og.options.region == "eu"
    assert config.source("cov").options.service == "github"
    local = config.source("local")
    assert local.options.path == tmp_path / "data" / "exports"
    assert local.options.strict is True

    assert [t.name for t in config.teams] == ["Payments", "Search"]
    assert config.teams[0].pagerduty_services == ("P123",)
    assert config.teams[1].coverage_repos == ("search-legacy",)
    assert config.teams[1].opsgenie_teams == ("search-oncall",)
    assert config.teams[1].incidentio_teams == ("Search",)
    assert config.team("search") is config.teams[1]

    (ai,) = config.change_classes
    assert ai.name == "ai"
    assert ai.required_workflow == "evals"
    assert ai.gated_floor == 0.75
    assert ai.title_patterns == ("(?i)prompt",)

    # Parsing the same text again gives an equal config.
    assert parse_config(FULL, path) == config


def test_defaults_for_a_minimal_config() -> None:
    config = parse_config('[sources.d]\nkind = "demo"\n' + TEAM)
    assert config.window_days == 30
    assert config.benchmarks == "dora-2023"
    assert config.production_environments == ("production", "prod", "live")
    assert config.bench() == bands.PRESETS["dora-2023"]
    assert config.source("d").kind == "demo"


def test_unknown_source_lists_known_ones() -> None:
    config = parse_config(
        '[sources.gh]\nkind = "github"\n[sources.pd]\nkind = "pagerduty"\n' + TEAM
    )
    with pytest.raises(ConfigError) as info:
        config.source("gitlab")
    assert "sources.gitlab" in str(info.value)
    with pytest.raises(ConfigError) as info2:
        config.source("pdd")
    assert "`pd`" in str(info2.value)


def test_example_config_parses_and_covers_every_kind() -> None:
    path = ROOT / "config.example.toml"
    config = load_config(path)
    assert {s.kind for s in config.sources} == set(known_kinds())
    assert config.warnings == ()
    assert len(config.teams) >= 3
    ai = next(c for c in config.change_classes if c.name == "ai")
    assert ai.required_workflow == "evals"
    assert ai.repos and ai.paths and ai.labels and ai.title_patterns
    assert set(config.thresholds) == set(bands.THRESHOLD_KEYS)
    assert config.service_aliases
    # no literal tokens in the example
    for source in config.sources:
        assert getattr(source.options, "token", None) in (None, "keyring")


def test_starter_config_parses() -> None:
    config = parse_config(starter_config_text())
    assert config.teams
    assert config.sources
    assert config.warnings == ()


def test_plain_text_token_warns_without_showing_it() -> None:
    secret = "ghp_s3cr3tT0kenValue1234567890"
    text = f'[sources.gh]\nkind = "github"\ntoken = "{secret}"\n' + TEAM
    config = parse_config(text, Path("config.toml"))
    assert config.source("gh").options.token == secret
    assert len(config.warnings) == 1
    warning = config.warnings[0]
    assert "scorecard auth set gh" in warning
    assert secret not in warning
    assert secret[:8] not in warning


def test_errors_never_echo_a_token() -> None:
    secret = "ghp_s3cr3tT0kenValue1234567890"
    text = f'[sources.gh]\nkind = "github"\ntoken = "{secret}"\ntoken_env = "{secret}"\n' + TEAM
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("c.toml"))
    assert secret not in str(info.value)
    text2 = f'[sources.gh]\nkind = "github"\ntoken_env = "{secret}"\n' + TEAM
    with pytest.raises(ConfigError) as info2:
        parse_config(text2, Path("c.toml"))
    assert secret not in str(info2.value)
    assert "sources.gh.token_env" in str(info2.value)


def test_files_path_resolves_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text('[sources.local]\nkind = "files"\npath = "../exports"\n' + TEAM)
    monkeypatch.chdir(tmp_path)
    config = load_config(path)
    assert config.source("local").options.path == tmp_path / "exports"
    absolute = tmp_path / "abs"
    path.write_text(f'[sources.local]\nkind = "files"\npath = "{absolute}"\n' + TEAM)
    assert load_config(path).source("local").options.path == absolute


def test_load_config_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml")
    assert "not found" in str(info.value)
    assert "scorecard init" in str(info.value)


def test_load_config_reports_invalid_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[scorecard]\norg = "Acme"\norg2 = "\xff"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:3:" in str(info.value)


def test_find_config_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    default = xdg / "scorecard" / "config.toml"
    assert default_config_path() == default

    explicit = tmp_path / "explicit.toml"
    from_env = tmp_path / "env.toml"
    for file in (explicit, from_env, default):
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(TEAM)

    assert find_config_path(None) == default
    monkeypatch.setenv("SCORECARD_CONFIG", str(from_env))
    assert find_config_path(None) == from_env
    assert find_config_path(explicit) == explicit
    assert find_config_path(str(explicit)) == explicit


def test_find_config_path_missing_suggests_init_and_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    with pytest.raises(ConfigError) as info:
        find_config_path(None)
    message = str(info.value)
    assert "scorecard init" in message
    assert "scorecard demo" in message
    assert str(tmp_path / "xdg" / "scorecard" / "config.toml") in message

    monkeypatch.setenv("SCORECARD_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError) as info2:
        find_config_path(None)
    assert "$SCORECARD_CONFIG" in str(info2.value)


def test_write_starter_config_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "config.toml"
    assert write_starter_config(path) == path
    assert path.read_text(encoding="utf-8") == starter_config_text()
    assert load_config(path).teams

    path.write_text("# mine\n")
    with pytest.raises(ConfigError) as info:
        write_starter_config(path)
    assert "--force" in str(info.value)
    assert path.read_text() == "# mine\n"

    write_starter_config(path, force=True)
    assert path.read_text(encoding="utf-8") == starter_config_text()
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]


def test_inline_tables_and_array_of_inline_tables_are_located() -> None:
    text = 'teams = [{ name = "A" }, { name = "B", colour = 1 }]\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("c.toml"))
    assert "c.toml:1: teams[1].colour:" in str(info.value)


def test_multiline_string_does_not_confuse_the_locator() -> None:
    text = (
        '[sources.prom]\nkind = "prometheus"\nurl = "https://p.example"\n'
        '[sources.prom.queries]\ncanary = """\n[[teams]]\nname = 1\n"""\n'
        "[[teams]]\nname = 3\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("c.toml"))
    assert "c.toml:10: teams[0].name:" in str(info.value)


# --- incident and coverage source options ------------------------------------------------

INCIDENT_OPTION_ERRORS = [
    (
        "pagerduty-bad-link-pattern",
        '[sources.pd]\nkind = "pagerduty"\ndeployment_link_pattern = "deploy-(\\\\d+"\n' + TEAM,
        3,
        "sources.pd.deployment_link_pattern",
        "regular expression",
    ),
    (
        "incidentio-bad-severity",
        '[sources.io]\nkind = "incidentio"\n[sources.io.severity_map]\nCritical = "p1"\n' + TEAM,
        4,
        "sources.io.severity_map.Critical",
        "sev1",
    ),
    (
        "opsgenie-link-pattern-not-a-string",
        '[sources.og]\nkind = "opsgenie"\ndeployment_link_pattern = 5\n' + TEAM,
        3,
        "sources.og.deployment_link_pattern",
        "expected a string",
    ),
    (
        "opsgenie-empty-deployment-field",
        '[sources.og]\nkind = "opsgenie"\ndeployment_field = ""\n' + TEAM,
        3,
        "sources.og.deployment_field",
        "must not be empty",
    ),
    (
        "codecov-deployment-field-unknown",
        '[sources.cov]\nkind = "codecov"\ndeployment_field = "x"\n' + TEAM,
        3,
        "sources.cov.deployment_field",
        "unknown key",
    ),
    (
        "codecov-branch-not-a-string",
        '[sources.cov]\nkind = "codecov"\nbranch = ["main"]\n' + TEAM,
        3,
        "sources.cov.branch",
        "expected a string",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "key", "fragment"),
    [pytest.param(t, ln, k, f, id=i) for i, t, ln, k, f in INCIDENT_OPTION_ERRORS],
)
def test_incident_and_coverage_option_errors(text: str, line: int, key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("config.toml"))
    message = str(info.value)
    assert message.startswith(f"config.toml:{line}: "), message
    assert f" {key}: " in message, message
    assert fragment in message, message
    assert info.value.key == key


def test_incident_and_coverage_options_are_kept() -> None:
    text = (
        '[sources.pd]\nkind = "pagerduty"\n'
        'deployment_link_pattern = "deploy (?P<deployment>[0-9a-f]{7,40})"\n'
        '[sources.io]\nkind = "incidentio"\ndeployment_field = "Caused by"\n'
        'deployment_link_pattern = "dep-\\\\d+"\n'
        '[sources.io.severity_map]\nCritical = "sev1"\n'
        '[sources.og]\nkind = "opsgenie"\nuse_alerts = true\ndeployment_field = "deployment"\n'
        '[sources.og.severity_map]\nP3 = "sev2"\n'
        '[sources.cov]\nkind = "codecov"\nservice = "gitlab"\nbranch = "develop"\n' + TEAM
    )
    config = parse_config(text, None)
    pd, io, og, cov = (config.source(n) for n in ("pd", "io", "og", "cov"))
    assert pd.options.deployment_link_pattern == "deploy (?P<deployment>[0-9a-f]{7,40})"
    assert io.options.deployment_field == "Caused by"
    assert io.options.deployment_link_pattern == "dep-\\d+"
    assert io.options.severity_map == {"Critical": "sev1"}
    assert og.options.severity_map == {"P3": "sev2"} and og.options.use_alerts is True
    assert (cov.options.service, cov.options.branch, cov.options.owner) == (
        "gitlab",
        "develop",
        None,
    )


PROM = '[sources.prom]\nkind = "prometheus"\nurl = "http://localhost:9090"\n'

MONITORING_OPTION_ERRORS: list[tuple[str, str, int, str, str]] = [
    (
        "alert-incidents-not-a-boolean",
        PROM + 'alert_incidents = "yes"\n' + TEAM,
        4,
        "sources.prom.alert_incidents",
        "expected true or false",
    ),
    (
        "alert-teams-unknown-team",
        PROM + 'alert_teams = ["Paymnets"]\n' + TEAM,
        4,
        "sources.prom.alert_teams",
        "no team named `Paymnets`",
    ),
    (
        "alert-teams-a-string",
        PROM + 'alert_teams = "Payments"\n' + TEAM,
        4,
        "sources.prom.alert_teams",
        "expected a list of strings",
    ),
    (
        "alert-service-label-empty",
        '[sources.am]\nkind = "alertmanager"\nurl = "http://localhost:9093"\n'
        'alert_service_label = ""\n' + TEAM,
        4,
        "sources.am.alert_service_label",
        "must not be empty",
    ),
    (
        "prometheus-severity-map-bad-value",
        PROM + '[sources.prom.severity_map]\npage = "critical"\n' + TEAM,
        5,
        "sources.prom.severity_map.page",
        "unknown value",
    ),
    (
        "prometheus-empty-query",
        PROM + '[sources.prom.queries]\n"error budget" = " "\n' + TEAM,
        5,
        'sources.prom.queries."error budget"',
        "the PromQL expression is empty",
    ),
    (
        "alert-min-minutes-negative",
        PROM + "alert_min_minutes = -1\n" + TEAM,
        4,
        "sources.prom.alert_min_minutes",
        "out of range",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "key", "fragment"),
    [pytest.param(t, ln, k, f, id=i) for i, t, ln, k, f in MONITORING_OPTION_ERRORS],
)
def test_monitoring_option_errors(text: str, line: int, key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("config.toml"))
    message = str(info.value)
    assert message.startswith(f"config.toml:{line}: "), message
    assert f" {key}: " in message, message
    assert fragment in message, message


def test_monitoring_options_are_kept() -> None:
    text = (
        PROM + "alert_incidents = true\n"
        'alert_teams = ["payments"]\n'
        'alert_service_label = "app"\n'
        'alert_severity_label = "priority"\n'
        "alert_min_minutes = 5\n"
        '[sources.prom.severity_map]\nP1 = "sev1"\n'
        '[sources.prom.queries]\n"burn" = "slo:burn{service=~\\"$services\\"}"\n'
        '[sources.am]\nkind = "alertmanager"\nurl = "http://localhost:9093"\n'
        'alert_teams = ["Payments"]\n' + TEAM
    )
    config = parse_config(text, None)
    prom, am = config.source("prom"), config.source("am")
    assert prom.options.api_url == "http://localhost:9090"
    assert prom.options.alert_incidents is True
    assert prom.options.alert_teams == ("payments",)
    assert prom.options.alert_service_label == "app"
    assert prom.options.alert_severity_label == "priority"
    assert prom.options.alert_min_minutes == 5.0
    assert prom.options.severity_map == {"P1": "sev1"}
    assert prom.options.queries == {"burn": 'slo:burn{service=~"$services"}'}
    assert am.options.alert_teams == ("Payments",)
    assert am.options.alert_incidents is False  # not written: the default
