"""A sentinel token must never show up: not in output, logs, cache, exports or screenshots.

Runs sync (good, failing and redirected), export in every format, config check,
``--debug`` failures and a TUI screenshot with one sentinel token, then searches
everything written or printed for it. Also: ``Authorization`` is not sent after a
redirect to another host, and plain http:// is refused unless local or allowed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scorecard import cli, service
from scorecard.errors import FatalSourceError, SourceError
from scorecard.sources.http import HttpClient
from scorecard.store import Store
from tests.fakes.server import FakeServer, Reply, running
from tests.source_config import source_config
from tests.test_faults import build

SENTINEL = "ghp_LEAKSENTINEL9f8e7d6c5b4a3210zz"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("LEAK_TOKEN", SENTINEL)
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def write_config(tmp_path: Path, url: str, *, extra: str = "") -> Path:
    path = tmp_path / "scorecard.toml"
    path.write_text(
        f"""
[sources.gh]
kind = "github"
api_url = "{url}"
token_env = "LEAK_TOKEN"
timeout_s = 1
max_wait_s = 0.1
{extra}

[[teams]]
name = "Payments"
repos = ["acme/payments-api"]
""",
        encoding="utf-8",
    )
    return path


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def assert_clean(text: str | bytes, where: str) -> None:
    data = text.encode() if isinstance(text, str) else text
    assert SENTINEL.encode() not in data, f"the token leaked into {where}"


def test_no_leak_through_sync_export_config_check_and_screens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from scorecard.sources import http

    monkeypatch.setattr(http, "BACKOFF_INITIAL_S", 0.01)
    monkeypatch.setattr(http, "BACKOFF_MAX_S", 0.02)
    outputs: list[str] = []
    with running(FakeServer()) as server:
        build(server)
        config = str(write_config(tmp_path, server.url))

        def run(*args: str) -> int:
            code = cli.main(list(args))
            out, err = capsys.readouterr()
            outputs.append(out + err)
            return code

        assert run("sync", "--config", config) == 0
        assert all(r.headers.get("authorization") == f"Bearer {SENTINEL}" for r in server.log)
        # An error that echoes the request (token included) back at us.
        server.routes.insert(
            0,
            (
                lambda p: True,
                lambda r, s: Reply(
                    401, {"message": f"Bad credentials: {r.headers.get('authorization')}"}
                ),
            ),
        )
        assert run("sync", "--config", config) == 1
        assert run("config", "check", "--config", config) == 1
        for fmt in ("csv", "json", "markdown"):
            for detail in ("summary", "deployments"):
                out = tmp_path / f"report-{detail}.{fmt}"
                assert (
                    run(
                        "export",
                        "--config",
                        config,
                        "--offline",
                        "--format",
                        fmt,
                        "--detail",
                        detail,
                        "--output",
                        str(out),
                    )
                    == 0
                )
                assert_clean(out.read_bytes(), out.name)
        assert run("export", "--config", config, "--format", "json") == 1
        assert run("auth", "status", "--config", config) == 0

        # The TUI on the failed source's cache: its SVG screenshot.
        from scorecard.config import load_config
        from scorecard.tui.app import ScorecardApp, TuiOptions

        cfg = load_config(Path(config))
        card = service.cached_scorecard(cfg, Store(read_only=True), service.score_request(cfg))
        assert card.failed_sources() == ["gh"]

        async def screenshot() -> str:
            app = ScorecardApp(TuiOptions(config=cfg), loader=lambda window: card)
            async with app.run_test(size=(160, 40)) as pilot:
                await pilot.app.workers.wait_for_complete()
                await pilot.pause()
                from scorecard.tui.screens.sources import SourcesScreen

                app.push_screen(SourcesScreen())
                await pilot.pause()
                return str(app.export_screenshot())

        import asyncio

        svg = asyncio.run(screenshot())
        assert "401" in svg
        assert_clean(svg, "the TUI screenshot")

    for n, text in enumerate(outputs):
        assert_clean(text, f"output #{n}")
    assert any("401" in text for text in outputs), "the failure was reported"
    for path in files_under(tmp_path / "cache"):
        assert_clean(path.read_bytes(), f"cache file {path}")
    for path in files_under(tmp_path / "xdg") if (tmp_path / "xdg").exists() else []:
        assert_clean(path.read_bytes(), f"config dir file {path}")


def test_debug_tracebacks_do_not_leak(tmp_path: Path) -> None:
    with running(FakeServer()) as server:
        server.routes.insert(
            0,
            (
                lambda p: True,
                lambda r, s: Reply(403, {"message": f"no: {r.headers.get('authorization')}"}),
            ),
        )
        config = write_config(tmp_path, server.url)
        env = {k: v for k, v in os.environ.items() if k != "SCORECARD_CONFIG"}
        for args in (
            ["sync", "--debug", "--config", str(config)],
            ["export", "--debug", "--config", str(config)],
            ["config", "check", "--debug", "--config", str(config)],
        ):
            done = subprocess.run(
                [sys.executable, "-m", "scorecard", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode != 0
            assert_clean(done.stdout + done.stderr, " ".join(args))
    for path in files_under(tmp_path):
        assert_clean(path.read_bytes(), str(path))


def test_a_plain_text_token_in_the_config_is_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plain.toml"
    path.write_text(
        f'[sources.gh]\nkind = "github"\ntoken = "{SENTINEL}"\nbogus = 1\n\n'
        '[[teams]]\nname = "A"\nrepos = ["a/b"]\n'
    )
    code = cli.main(["config", "check", "--offline", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and "bogus" in err
    assert_clean(out + err, "config error")
    path.write_text(
        f'[sources.gh]\nkind = "github"\ntoken = "{SENTINEL}"\n\n'
        '[[teams]]\nname = "A"\nrepos = ["a/b"]\n'
    )
    code = cli.main(["config", "check", "--offline", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code == 0 and "scorecard auth set" in err
    assert_clean(out + err, "plain-text token warning")


# --- redirects and plain http -------------------------------------------------------------


def client(url: str, **kwargs: object) -> HttpClient:
    cfg = source_config(name="gh", kind="github", api_url=url, timeout_s=2, **kwargs)  # type: ignore[arg-type]
    return HttpClient(cfg, auth_headers={"Authorization": f"Bearer {SENTINEL}"}, secrets=[SENTINEL])


async def test_authorization_is_not_sent_after_a_redirect_to_another_host() -> None:
    with running(FakeServer()) as api, running(FakeServer()) as other:
        other.route("/data", lambda r, s: Reply(200, {"ok": True}))
        # Same machine, another host name: a different origin.
        elsewhere = other.url.replace("127.0.0.1", "localhost") + "/data"
        api.route("/moved", lambda r, s: Reply(302, None, {"Location": elsewhere}))
        api.route("/here", lambda r, s: Reply(302, None, {"Location": "/data"}))
        api.route("/data", lambda r, s: Reply(200, {"ok": True}))
        async with client(api.url) as http:
            page = await http.get("moved")
            assert page.data == {"ok": True}
            await http.get("here")
        assert [r.headers.get("authorization") for r in other.log] == [None]
        assert all(r.headers.get("authorization") == f"Bearer {SENTINEL}" for r in api.log)


async def test_a_redirect_to_remote_plain_http_is_refused() -> None:
    with running(FakeServer()) as api:
        api.route("/moved", lambda r, s: Reply(302, None, {"Location": "http://example.com/x"}))
        async with client(api.url) as http:
            with pytest.raises(SourceError, match="plain http"):
                await http.get("moved")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://api.example.com", False),
        ("http://10.0.0.5:8080", False),
        ("http://localhost:9", True),
        ("http://127.0.0.1:9", True),
        ("http://[::1]:9", True),
        ("https://api.example.com", True),
    ],
)
async def test_plain_http_is_refused_unless_local_or_allowed(url: str, allowed: bool) -> None:
    if allowed:
        await client(url).aclose()
    else:
        with pytest.raises(FatalSourceError, match="allow_insecure"):
            client(url)
        await client(url, allow_insecure=True).aclose()
