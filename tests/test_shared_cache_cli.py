"""The shared cache through the command line and the header (SPEC §4, §7, §9).

The shared cache here is a folder (``cache_url`` may be a path: a Delta table on
a shared filesystem); the S3 behaviour is in ``test_shared_cache.py``. One config
serves the publisher and the readers, as in the docs: only ``sync --publish``
writes, everything else reads the latest publication.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytest.importorskip("deltalake")

from scorecard import cli, config, service
from scorecard.store import Store, read_published
from scorecard.tui.header import About, Doing, header_text
from scorecard.tui.palette import Palette

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A config with a ``files`` source and ``cache_url = "shared"``; its path."""
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SCORECARD_PUBLISHER", "nightly")
    for name in ("SCORECARD_CACHE_URL", "SCORECARD_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "deployments.csv").write_text(
        "id,team,service,repo,environment,status,started_at,finished_at\n"
        "d1,Payments,pay,acme/pay,production,success,2026-11-25T10:00:00Z,2026-11-25T10:05:00Z\n",
        encoding="utf-8",
    )
    path = tmp_path / "scorecard.toml"
    path.write_text(
        '[scorecard]\norg = "Acme"\ncache_url = "shared"\n\n'
        f'[sources.local]\nkind = "files"\npath = "{exports.as_posix()}"\n\n'
        '[[teams]]\nname = "Payments"\nservices = ["pay"]\nrepos = ["acme/pay"]\n',
        encoding="utf-8",
    )
    yield path
    read_published(None)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_sync_publish_then_readers_export_the_publication(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["sync", "--publish", "--config", str(setup)], capsys)
    assert code == 0, err
    assert f"published to {setup.parent / 'shared'}: publication 0 by nightly" in err
    # A reader: no local cache at all, the publication only.
    local = setup.parent / "cache"
    shutil.rmtree(local)
    code, out, err = run(["export", "--format", "json", "--config", str(setup)], capsys)
    assert code == 0, err
    (payments,) = json.loads(out)["rows"]
    assert payments["team"] == "Payments" and payments["deploys"] == 1
    assert not local.exists()  # read-only: nothing written locally


def test_a_plain_sync_with_a_shared_cache_is_refused(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["sync", "--config", str(setup)], capsys)
    assert code == 2
    assert "`scorecard sync --publish` (the scheduled job) writes it" in err
    assert not (setup.parent / "shared").exists() and not (setup.parent / "cache").exists()


def test_readers_keep_no_snapshot(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["snapshot", "--config", str(setup)], capsys)
    assert code == 2 and "`scorecard sync --publish` keeps the day's snapshot" in err
    assert not (setup.parent / "cache").exists()


def test_sync_publish_without_a_cache_url_is_a_usage_error(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.write_text(setup.read_text().replace('cache_url = "shared"\n', ""), encoding="utf-8")
    code, _, err = run(["sync", "--publish", "--config", str(setup)], capsys)
    assert code == 2 and "no cache_url" in err


def test_a_fresh_publisher_starts_from_the_last_publication(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(["sync", "--publish", "--config", str(setup)], capsys)[0] == 0
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(setup.parent / "fresh-runner"))
    code, _, err = run(["sync", "--publish", "--config", str(setup)], capsys)
    assert code == 0, err
    assert "started from the publication of" in err and "by nightly (1 sources)" in err
    assert "publication 1 by nightly" in err


def test_credentials_in_the_cache_url_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "scorecard.toml"
    path.write_text('[scorecard]\ncache_url = "s3://key:secret@bucket/org"\n', encoding="utf-8")
    with pytest.raises(config.ConfigError, match="cache_url") as raised:
        config.load_config(path)
    assert "secret" not in str(raised.value)


def test_the_header_says_whose_sync_and_when(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["sync", "--publish", "--config", str(setup)], capsys)[0] == 0
    cfg = config.load_config(setup)
    from scorecard.shared_cache import read_shared

    assert read_shared(cfg)
    store = Store(read_only=True)
    assert store.publication is not None
    published_at = store.publication.published_at
    assert published_at is not None
    card = service.cached_scorecard(cfg, store, service.score_request(cfg, as_of=AS_OF))
    about = About.of_scorecard(card)
    assert about.published_by == "nightly"
    later = published_at + timedelta(hours=2)
    text = header_text(about, Doing(read_only=True), now=later, palette=Palette()).plain
    assert text.startswith("[RO] Acme") and "published by nightly 2 hours ago" in text


def test_where_the_shared_cache_is_and_how_it_is_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scorecard.shared_cache import cache_url, storage_options

    cfg = config.Config(path=tmp_path / "scorecard.toml", cache_url="shared")
    assert cache_url(cfg) == str(tmp_path / "shared")  # relative to the config's folder
    monkeypatch.setenv("SCORECARD_CACHE_URL", "s3://acme/org")
    assert cache_url(cfg) == "s3://acme/org"  # the environment wins
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    assert storage_options("s3://acme/org", None) == {
        "conditional_put": "etag",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_ALLOW_HTTP": "true",
    }
    endpoint = "https://minio.internal"
    assert storage_options("s3://acme/org", endpoint)["AWS_ENDPOINT_URL"] == endpoint
    assert storage_options("gs://acme/org", None) == {}  # credentials: never options


def test_without_the_shared_extra_readers_are_told_what_to_install(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "deltalake", None)  # as if not installed
    for command in (["export"], ["sync", "--publish"]):
        code, _, err = run([*command, "--config", str(setup)], capsys)
        assert code == 2 and "pip install 'scorecard[shared]'" in err, err
    assert not (setup.parent / "shared").exists()


def test_a_standup_left_running_sees_each_new_publication(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scorecard.request import ScoreRequest
    from scorecard.shared_cache import read_shared

    assert run(["sync", "--publish", "--config", str(setup)], capsys)[0] == 0
    cfg = config.load_config(setup)
    assert read_shared(cfg)
    loader = cli.standup_loader(cfg, ScoreRequest.resolve(now=AS_OF), live=False)
    assert loader().report.table.loc["Payments", "deploys"] == 1
    with (setup.parent / "exports" / "deployments.csv").open("a", encoding="utf-8") as rows:
        rows.write("d2,Payments,pay,acme/pay,production,success,2026-11-25T11:00:00Z,\n")
    assert run(["sync", "--publish", "--config", str(setup)], capsys)[0] == 0
    assert read_shared(cfg)  # as the standup command had it
    assert loader().report.table.loc["Payments", "deploys"] == 2
