"""A kind's Options class is its config schema: the generic section checker, and
config.example.toml, `scorecard init` and the config package kept in step with it."""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest

from scorecard.config import ConfigError, parse_config, starter_config_text
from scorecard.config.checker import Checker
from scorecard.config.options_schema import option_fields, read_options
from scorecard.options import HttpOptions, OptionProblem, SourceOptions, option
from scorecard.sources.registry import known_kinds, options_class

ROOT = Path(__file__).resolve().parent.parent
CONFIG_PACKAGE = ROOT / "scorecard" / "config"


# --- the generic checker, against small Options classes of its own -----------------------


@dataclass(frozen=True)
class WidgetOptions(HttpOptions):
    """Every shape of field the checker reads."""

    url_key: ClassVar[str] = "url"

    colour: Literal["red", "green"] = "red"
    label: str | None = None
    retries: int = option(3, low=0, high=10)
    ratio: float = option(0.5, low=0, high=1)
    verbose: bool = False
    folder: Path | None = option(None, check="path")  # noqa: RUF009
    names: tuple[str, ...] = ()
    patterns: tuple[str, ...] = option((), check="regex_list")
    pattern: str | None = option(None, check="regex")
    labels: Mapping[str, str] = option(default_factory=dict)
    levels: Mapping[str, str] = option(default_factory=dict, check="severity_map")
    secret_headers: Mapping[str, str] = option(default_factory=dict, sensitive=True)


@dataclass(frozen=True, kw_only=True)
class NeedsFolderOptions(SourceOptions):
    """A required key."""

    where: Path = option(check="path", required=True, example='"data/"')  # noqa: RUF009


@dataclass(frozen=True)
class TeamOptions(SourceOptions):
    """Cross-field problems with a nested key."""

    owners: tuple[str, ...] = ()
    queries: Mapping[str, str] = option(default_factory=dict)

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        for name in self.owners:
            if name not in team_names:
                yield OptionProblem("owners", f"no team named `{name}`", "name a team")
        for name, query in self.queries.items():
            if not query:
                yield OptionProblem(f'queries."{name}"', "empty query", "write one")


def read(cls: type[SourceOptions], text: str, path: Path | None = None) -> SourceOptions:
    """``text`` as the body of ``[sources.w]``, read against ``cls``."""
    full = "[sources.w]\n" + text
    ck = Checker(full, path or Path("c.toml"))
    body = ck.parse_toml()["sources"]["w"]
    return read_options(ck, ("sources", "w"), "widget", cls, body)


def error(cls: type[SourceOptions], text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        read(cls, text)
    return info.value


def test_an_empty_section_gives_the_defaults() -> None:
    assert read(WidgetOptions, "") == WidgetOptions()


def test_every_shape_is_read_into_its_type(tmp_path: Path) -> None:
    options = read(
        WidgetOptions,
        'url = "https://w.example/api/"\ncolour = "green"\nlabel = "x"\nretries = 4\n'
        'ratio = 1\nverbose = true\nfolder = "sub"\nnames = ["a", "b"]\n'
        'patterns = ["^a"]\npattern = "b+"\n[sources.w.labels]\nk = "v"\n'
        '[sources.w.levels]\nP1 = "sev1"\n',
        tmp_path / "c.toml",
    )
    assert isinstance(options, WidgetOptions)
    assert options.api_url == "https://w.example/api"  # written under url_key, trimmed
    assert (options.colour, options.label, options.retries) == ("green", "x", 4)
    assert options.ratio == 1.0 and isinstance(options.ratio, float)
    assert options.verbose is True
    assert options.folder == tmp_path / "sub"
    assert (options.names, options.patterns, options.pattern) == (("a", "b"), ("^a",), "b+")
    assert options.labels == {"k": "v"} and options.levels == {"P1": "sev1"}


CASES = [
    ("colour = 'blue'", 2, "sources.w.colour", "use one of: red, green"),
    ("colour = 'gren'", 2, "sources.w.colour", "did you mean `green`"),
    ("colur = 'red'", 2, "sources.w.colur", "did you mean `colour`"),
    ("api_url = 'https://x'", 2, "sources.w.api_url", "unknown key"),
    ("retries = 11", 2, "sources.w.retries", "between 0 and 10"),
    ("retries = 1.5", 2, "sources.w.retries", "expected a whole number"),
    ("ratio = 'half'", 2, "sources.w.ratio", 'expected a number, got "half"'),
    ("verbose = 'yes'", 2, "sources.w.verbose", "expected true or false"),
    ("label = ''", 2, "sources.w.label", "must not be empty"),
    ("names = 'a'", 2, "sources.w.names", "wrap it in brackets"),
    ("patterns = ['(']", 2, "sources.w.patterns", "regular expression"),
    ("pattern = '('", 2, "sources.w.pattern", "regular expression"),
    ("url = 'http://w.example'", 2, "sources.w.url", "plain http"),
    ("[sources.w.levels]\nP1 = 'p1'", 3, "sources.w.levels.P1", "sev1"),
    ("[sources.w.labels]\nk = 1", 3, "sources.w.labels.k", "expected a string"),
]


@pytest.mark.parametrize(("text", "line", "key", "fragment"), CASES)
def test_each_field_is_checked_by_its_type_and_spec(
    text: str, line: int, key: str, fragment: str
) -> None:
    err = error(WidgetOptions, text + "\n")
    assert (err.line, err.key) == (line, key)
    assert fragment in str(err), str(err)


def test_plain_http_is_allowed_with_allow_insecure() -> None:
    options = read(WidgetOptions, "url = 'http://w.example'\nallow_insecure = true\n")
    assert isinstance(options, HttpOptions) and options.api_url == "http://w.example"


def test_sensitive_values_are_never_echoed() -> None:
    err = error(WidgetOptions, "[sources.w.secret_headers]\nAuthorization = 12345\n")
    assert "12345" not in str(err) and "a number" in str(err)
    err = error(WidgetOptions, "token_env = 987654\n")
    assert "987654" not in str(err) and err.key == "sources.w.token_env"


def test_a_required_key_names_the_kind_and_an_example() -> None:
    err = error(NeedsFolderOptions, "refresh_minutes = 5\n")
    assert (err.line, err.key) == (1, "sources.w.where")
    assert "a widget source needs `where`" in str(err)
    assert 'add e.g. `where = "data/"` (relative to this config file' in str(err)


def test_an_unreadable_field_type_is_a_programming_error() -> None:
    @dataclass(frozen=True)
    class Odd(SourceOptions):
        when: list[int] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match=r"Odd\.when"):
        option_fields(Odd)


def test_problems_get_the_team_names_and_point_at_their_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scorecard.config import source_section

    monkeypatch.setattr(source_section, "options_class", lambda kind: TeamOptions)
    monkeypatch.setattr(source_section, "known_kinds", lambda: ("teamed",))
    team = '[[teams]]\nname = "Payments"\n'
    ok = parse_config('[sources.t]\nkind = "teamed"\nowners = ["Payments"]\n' + team)
    assert ok.source("t").options == TeamOptions(owners=("Payments",))
    with pytest.raises(ConfigError) as info:
        parse_config('[sources.t]\nkind = "teamed"\nowners = ["Search"]\n' + team, Path("c"))
    assert str(info.value).startswith("c:3: sources.t.owners: no team named `Search`")
    text = '[sources.t]\nkind = "teamed"\n[sources.t.queries]\n"a b" = ""\n' + team
    with pytest.raises(ConfigError) as info2:
        parse_config(text, Path("c"))
    assert str(info2.value).startswith('c:4: sources.t.queries."a b": empty query')


# --- the real kinds -------------------------------------------------------------------


def test_every_known_kind_has_an_options_class_the_checker_can_read() -> None:
    for kind in known_kinds():
        cls = options_class(kind)
        assert issubclass(cls, SourceOptions)
        assert option_fields(cls), kind


def test_loading_the_example_config_imports_neither_pandas_nor_httpx() -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "import scorecard.config as c\n"
        f"c.load_config(Path({str(ROOT / 'config.example.toml')!r}))\n"
        "print(sorted(m for m in ('pandas', 'httpx', 'numpy') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


PRODUCT_PHRASES = ("scorecard demo", "demo org")
"""The `scorecard demo` command and the demo org it shows: the product, not the kind."""


def test_no_module_of_the_config_package_names_a_source_kind() -> None:
    """Adding a source touches its module, its tests and the docs; never config/."""
    named = re.compile(r"\b(" + "|".join(map(re.escape, known_kinds())) + r")\b", re.IGNORECASE)
    found = []
    for path in sorted(CONFIG_PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                for phrase in PRODUCT_PHRASES:
                    text = text.replace(phrase, "")
                found += [f"{path.name}: {m}" for m in named.findall(text)]
    assert found == []


# --- config.example.toml and the starter follow the Options ----------------------------

_COMMENTED = re.compile(r"^(\s*)# ?(\S.*)$")


def uncommented(text: str) -> str:
    """The text with its commented-out example keys and sections switched on: every
    comment line that is a TOML header or a complete ``key = value`` line."""
    out = []
    for line in text.splitlines():
        m = _COMMENTED.match(line)
        if m and _is_toml_line(m.group(2)):
            line = m.group(1) + m.group(2)
        out.append(line)
    return "\n".join(out) + "\n"


def _is_toml_line(line: str) -> bool:
    import tomllib

    if re.fullmatch(r"\[\[?[A-Za-z0-9_.\"-]+\]\]?(\s*#.*)?", line):
        return True
    if not re.match(r"[A-Za-z0-9_-]+\s*=", line):
        return False
    try:
        return len(tomllib.loads(line)) == 1
    except tomllib.TOMLDecodeError:
        return False


def written_source_keys(text: str) -> dict[str, tuple[str, set[str]]]:
    """Each [sources.NAME] section of ``text``: its kind and every key it writes."""
    config = parse_config(text)
    sources = {s.name: s for s in config.sources}
    import tomllib

    raw: dict[str, Any] = tomllib.loads(text).get("sources", {})
    return {name: (sources[name].kind, set(body) - {"kind"}) for name, body in raw.items()}


def config_keys(cls: type[SourceOptions]) -> dict[str, type]:
    """Each config key of ``cls`` and the class that declares its field."""
    out = {}
    for f in option_fields(cls):
        owner = next(k for k in cls.__mro__ if f.name in getattr(k, "__annotations__", {}))
        out[f.key] = owner
    return out


@pytest.mark.parametrize("name", ["config.example.toml", "starter"])
def test_every_key_written_for_a_source_is_an_option_of_its_kind(name: str) -> None:
    text = starter_config_text() if name == "starter" else (ROOT / name).read_text()
    for written in (text, uncommented(text)):
        for source, (kind, keys) in written_source_keys(written).items():
            unknown = keys - set(config_keys(options_class(kind)))
            assert not unknown, (source, kind, unknown)


def test_the_example_config_shows_every_option_of_every_kind() -> None:
    """Commented out is fine. An option a base class declares (``timeout_s``,
    ``severity_map``) may be shown in the section of any kind that shares it."""
    shown = written_source_keys(uncommented((ROOT / "config.example.toml").read_text()))
    missing = []
    for kind in known_kinds():
        for key, owner in config_keys(options_class(kind)).items():
            if not any(
                key in keys and issubclass(options_class(k), owner) for k, keys in shown.values()
            ):
                missing.append(f"{kind}.{key}")
    assert missing == []


def test_the_starter_and_its_commented_examples_parse() -> None:
    for text in (starter_config_text(), uncommented(starter_config_text())):
        config = parse_config(text)
        assert config.teams and config.sources
        assert config.warnings == ()
    assert len(parse_config(uncommented(starter_config_text())).sources) == 2


SEVERAL_MISTAKES = [
    ('kind = "files"\nrefresh_minutes = "x"\n', "sources.s.refresh_minutes"),
    ('kind = "github"\nmax_wait_s = -1\nrollback_patterns = 1\n', "sources.s.rollback_patterns"),
    ('kind = "github"\ntimeout_s = 0\ntoken = "keyring"\ntoken_env = "T"\n', "sources.s.token_env"),
    (
        'kind = "gitlab"\napi_url = "http://gl.example"\nallow_insecure = 1\n',
        "sources.s.allow_insecure",
    ),
    (
        'kind = "pagerduty"\nteam_ids = 1\ndeployment_link_pattern = "("\n',
        "sources.s.deployment_link_pattern",
    ),
]


@pytest.mark.parametrize(("body", "key"), SEVERAL_MISTAKES)
def test_with_several_mistakes_the_same_one_is_reported_first(body: str, key: str) -> None:
    """The connection first (``allow_insecure`` before the URL it allows, the token
    rules), then the common settings, the kind's own keys by name, ``max_wait_s``."""
    with pytest.raises(ConfigError) as info:
        parse_config("[sources.s]\n" + body + '[[teams]]\nname = "A"\n')
    assert info.value.key == key
