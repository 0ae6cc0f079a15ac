"""The prometheus source against a real Prometheus server (and a fake one for errors).

A generated history is backfilled with ``promtool tsdb create-blocks-from
openmetrics`` and served by a real ``prometheus`` on a free 127.0.0.1 port.
The history ends at ``END`` (a whole day, two days before now, so it is in
the past for the server) and covers the 8 days before it: Argo Rollouts and Flagger
series, firing (and pending) alerts and SLO recording rules. Every expectation
in the tests is relative to ``END``, so the tests are deterministic whatever
the day they run.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from scorecard import export, model, service, sync
from scorecard.config import Config, parse_config
from scorecard.errors import SourceError
from scorecard.request import ScoreRequest
from scorecard.sources import monitoring, prometheus, promql
from scorecard.sources.api import auth_token
from scorecard.sources.contract import FetchContext, SourceResult
from scorecard.sources.records import iso
from scorecard.sources.registry import build_source
from scorecard.store import Store
from tests.fakes.server import FakeServer, Reply, Request

DAY = 86_400
HOUR = 3_600
MIN = 60
DAYS = 8


def end_of_history(now: float | None = None) -> int:
    """Midnight UTC two days ago (epoch seconds)."""
    moment = int(now if now is not None else time.time())
    return moment - moment % DAY - 2 * DAY


END = end_of_history()
START = END - DAYS * DAY


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


@dataclass
class History:
    """Series by metric family: ``{family: {label text: [(t, value)]}}``."""

    families: dict[str, dict[str, list[tuple[int, float]]]] = field(default_factory=dict)

    def add(
        self, family: str, labels: str, start: int, stop: int, value: float = 1, every: int = 60
    ) -> None:
        """Samples of one series every ``every`` seconds from ``start`` to ``stop`` inclusive."""
        series = self.families.setdefault(family, {}).setdefault(labels, [])
        series.extend((t, value) for t in range(start, stop + 1, every))

    def openmetrics(self, lo: int, hi: int) -> str:
        """The samples with ``lo <= t < hi`` as an OpenMetrics text (ends with ``# EOF``)."""
        out: list[str] = []
        for family, series in self.families.items():
            body = [
                f"{family}{{{labels}}} {value:g} {t}"
                for labels, points in series.items()
                for t, value in sorted(points)
                if lo <= t < hi
            ]
            if body:
                out.append(f"# TYPE {family} gauge")
                out.extend(body)
        out.append("# EOF")
        return "\n".join(out) + "\n"


def history() -> History:
    h = History()
    # Argo Rollouts: payments-api was a canary, then became blue-green 3 days before END;
    # a second series while it was progressing (the phase label) changes nothing.
    h.add("rollout_info", ARGO_PAYMENTS_CANARY, END - 6 * DAY, END - 3 * DAY - 120, every=120)
    h.add(
        "rollout_info",
        'namespace="payments",name="payments-api",strategy="canary",phase="Progressing"',
        END - 5 * DAY,
        END - 5 * DAY + 2 * HOUR,
        every=120,
    )
    h.add(
        "rollout_info",
        'namespace="payments",name="payments-api",strategy="blueGreen",phase="Healthy"',
        END - 3 * DAY,
        END - 60,
        every=120,
    )
    # ledger-writer in namespace payments (listed as payments/ledger-writer) ran as a
    # canary for one day and was then deleted; the one in namespace other is nobody's.
    h.add(
        "rollout_info",
        'namespace="payments",name="ledger-writer",strategy="canary",phase="Healthy"',
        END - 2 * DAY,
        END - DAY - 120,
        every=120,
    )
    h.add(
        "rollout_info",
        'namespace="other",name="ledger-writer",strategy="blueGreen",phase="Healthy"',
        END - 2 * DAY,
        END - 60,
        every=120,
    )
    # Flagger: search is a canary from 4 days before END; namespace orphans has two
    # canaries no team lists.
    h.add(
        "flagger_canary_status", 'namespace="search",name="search"', END - 4 * DAY, END - 60, 1, 120
    )
    h.add("flagger_canary_total", 'namespace="search"', END - 4 * DAY, END - 60, 1, 120)
    h.add("flagger_canary_total", 'namespace="orphans"', END - 4 * DAY, END - 60, 2, 120)
    # Alerts (one sample a minute, as a rule evaluated every minute writes them).
    firing = 'alertstate="firing"'
    h.add(
        "ALERTS",
        f'alertname="HighErrorRate",{firing},service="ops-api",severity="critical"',
        END - 5 * DAY + 10 * HOUR,
        END - 5 * DAY + 11 * HOUR + 30 * MIN,
    )
    h.add(  # the same alert again, briefly: a second incident
        "ALERTS",
        f'alertname="HighErrorRate",{firing},service="ops-api",severity="critical"',
        END - 3 * DAY + HOUR,
        END - 3 * DAY + HOUR + 10 * MIN,
    )
    h.add(  # 3 minutes: shorter than alert_min_minutes = 5
        "ALERTS",
        f'alertname="LatencyHigh",{firing},service="ops-api",severity="warning"',
        END - 4 * DAY + 2 * HOUR,
        END - 4 * DAY + 2 * HOUR + 3 * MIN,
    )
    h.add(  # still firing at END
        "ALERTS",
        f'alertname="DiskFull",{firing},service="ops-api",severity="page"',
        END - DAY,
        END - 60,
    )
    h.add(  # pending only: never an incident
        "ALERTS",
        'alertname="CertExpiry",alertstate="pending",service="ops-api",severity="critical"',
        END - 2 * DAY,
        END - 2 * DAY + HOUR,
    )
    h.add(  # owned by its team label
        "ALERTS",
        f'alertname="SearchDown",{firing},team="Search",severity="critical"',
        END - 2 * DAY + 5 * HOUR,
        END - 2 * DAY + 5 * HOUR + 20 * MIN,
    )
    # SLO recording rules, the last hour.
    h.add("slo:error_budget_burn:ratio1h", 'service="ops-api"', END - HOUR, END - 60, 2.5)
    h.add("slo:error_budget_burn:ratio1h", 'service="nobody"', END - HOUR, END - 60, 0.5)
    h.add("slo:availability:ratio", 'service="payments-api"', END - HOUR, END - 60, 0.999)
    h.add("slo:availability:ratio", 'service="search"', END - HOUR, END - 60, 0.95)
    return h


ARGO_PAYMENTS_CANARY = 'namespace="payments",name="payments-api",strategy="canary",phase="Healthy"'


# --- the server ---------------------------------------------------------------------------


def binaries_or_skip() -> tuple[str, str]:
    """``prometheus`` and ``promtool``; a missing one skips (fails under ``CI=true``)."""
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if prometheus and promtool:
        return prometheus, promtool
    reason = (
        "the Debian package `prometheus` is not installed (prometheus/promtool not on PATH); "
        "`make test` installs it when run as root"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def backfill(promtool: str, data: History, directory: Path) -> None:
    """Blocks from ``data`` via ``promtool tsdb create-blocks-from openmetrics``, one
    input file per day, converted in parallel (each 2-hour block costs an fsync)."""
    inputs = directory / "openmetrics"
    inputs.mkdir()
    files = []
    for day in range(DAYS):
        lo = START + day * DAY
        path = inputs / f"day{day}.txt"
        path.write_text(data.openmetrics(lo, lo + DAY))
        files.append(path)

    def convert(path: Path) -> None:
        done = subprocess.run(
            [
                promtool,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "-q",
                str(path),
                str(directory / "tsdb"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"promtool failed on {path.name}: {done.stderr or done.stdout}")

    with ThreadPoolExecutor(max_workers=min(DAYS, (os.cpu_count() or 2) * 2)) as pool:
        list(pool.map(convert, files))


@contextmanager
def prometheus_server() -> Iterator[str]:
    """A real Prometheus on a free 127.0.0.1 port serving :func:`history`; yields its URL."""
    prometheus, promtool = binaries_or_skip()
    with tempfile.TemporaryDirectory(prefix="scorecard-prom-") as tmp:
        root = Path(tmp)
        backfill(promtool, history(), root)
        config = root / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\n")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (root / "prometheus.log").open("wb")
        process = subprocess.Popen(
            [
                prometheus,
                f"--config.file={config}",
                f"--storage.tsdb.path={root / 'tsdb'}",
                "--storage.tsdb.retention.time=3650d",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    log.flush()
                    raise RuntimeError(
                        "prometheus exited: " + (root / "prometheus.log").read_text()[-2000:]
                    )
                try:
                    with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("prometheus did not become ready within 30 s")
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


# --- fixtures -------------------------------------------------------------------------------

CONFIG = """
[scorecard]
org = "Acme"
window_days = 7

[sources.prom]
kind = "prometheus"
url = "{url}"
alert_incidents = true
alert_min_minutes = 5

[sources.prom.queries]
"error budget burn (1h)" = "max by (service) (slo:error_budget_burn:ratio1h)"
"availability" = 'avg(slo:availability:ratio{{service=~"$services"}})'
"broken" = "sum(rate(http_requests_total[5m])"

[[teams]]
name = "Payments"
services = ["payments-api", "payments/ledger-writer"]

[[teams]]
name = "Search"
services = ["search"]

[[teams]]
name = "Ops"
services = ["ops-api"]
"""


@pytest.fixture(scope="module")
def prom_url() -> Iterator[str]:
    with prometheus_server() as url:
        yield url


@pytest.fixture(scope="module")
def full(prom_url: str) -> SourceResult:
    """One fetch of the whole history with the test config."""
    return fetch(make_config(prom_url))


def make_config(url: str, **replace: str) -> Config:
    text = CONFIG.format(url=url)
    for old, new in replace.items():
        text = text.replace(old, new)
    return parse_config(text)


def fetch(config: Config, since: int = START, until: int = END, **ctx: Any) -> SourceResult:
    source = build_source(config.source("prom"), config=config)
    return asyncio.run(source.fetch(FetchContext(since=at(since), until=at(until), **ctx)))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict("records"):
        out.append(
            {
                k: (None if v is pd.NaT or (isinstance(v, float) and v != v) else v)
                for k, v in row.items()
            }
        )
    return out


def deploy(ident: str, service: str, seconds: int) -> dict[str, Any]:
    return {
        "id": ident,
        "source": "cd",
        "service": service,
        "environment": "production",
        "status": "success",
        "strategy": "unknown",
        "started_at": at(seconds - 600),
        "finished_at": at(seconds),
    }


# --- the real server ------------------------------------------------------------------------


def test_rollout_samples_from_argo_and_flagger(full: SourceResult) -> None:
    result = full
    samples = {
        (r["team"], r["service"], r["strategy"], r["at"])
        for r in records(result.frames["rollouts"])
    }
    assert ("Payments", "payments-api", "canary", at(END - 6 * DAY)) in samples
    assert ("Payments", "payments-api", "blue_green", at(END - 3 * DAY)) in samples
    assert ("Payments", "payments/ledger-writer", "canary", at(END - 2 * DAY)) in samples
    assert ("Search", "search", "canary", at(END - 4 * DAY)) in samples
    assert (None, "ledger-writer", "blue_green", at(END - 2 * DAY)) in samples  # unassigned
    # ledger-writer's rollout was deleted a day before END: unknown from then on
    gone = [s for s in samples if s[1] == "payments/ledger-writer" and s[2] == "unknown"]
    assert len(gone) == 1 and at(END - DAY) <= gone[0][3] <= at(END - DAY + 15 * MIN)
    # the Progressing phase series and the later samples of a run add nothing
    payments_api = sorted((s for s in samples if s[1] == "payments-api"), key=lambda s: s[3])
    assert [s[2] for s in payments_api] == ["canary", "blue_green"]
    assert any("namespace 'orphans'" in p for p in result.problems)
    assert result.stats.items["rollouts"] == 4


def test_canary_share_uses_the_rollout_samples(prom_url: str, full: SourceResult) -> None:
    config = make_config(prom_url)
    result = full
    deployments = model.frame_from_records(
        "deployments",
        [
            deploy("p1", "payments-api", END - 6 * DAY - 12 * HOUR),  # before any rollout
            deploy("p2", "payments-api", END - 4 * DAY),  # canary
            deploy("p3", "payments-api", END - 2 * DAY),  # blue-green
            deploy("p4", "payments-api", END - 12 * HOUR),  # blue-green
            deploy("l1", "payments/ledger-writer", END - DAY - 12 * HOUR),  # canary
            deploy("l2", "payments/ledger-writer", END - 12 * HOUR),  # rollout gone: unknown
            deploy("s1", "search", END - 5 * DAY),  # before Flagger
            deploy("s2", "search", END - 3 * DAY),
            deploy("s3", "search", END - DAY),
        ],
    )
    frames = {**result.frames, "deployments": deployments}
    report = service.report_from_frames(
        frames, config, request=service.score_request(config, as_of=at(END), now=at(END))
    )
    assert report.table.loc["Payments", "canary_share"] == pytest.approx(4 / 6)
    assert report.table.loc["Search", "canary_share"] == pytest.approx(2 / 3)
    without = service.report_from_frames(
        {"deployments": deployments},
        config,
        request=service.score_request(config, as_of=at(END), now=at(END)),
    )
    assert without.table.loc["Payments", "canary_share"] == 0


def test_firing_alert_history_becomes_incidents(prom_url: str, full: SourceResult) -> None:
    config = make_config(prom_url)
    result = full
    incidents = sorted(records(result.frames["incidents"]), key=lambda r: r["created_at"])
    got = [
        (
            r["team"],
            r["service"],
            r["title"].split(" ")[0],
            r["severity"],
            r["created_at"],
            r["resolved_at"],
        )
        for r in incidents
    ]
    assert got == [
        (
            "Ops",
            "ops-api",
            "HighErrorRate",
            "sev2",
            at(END - 5 * DAY + 10 * HOUR),
            at(END - 5 * DAY + 11 * HOUR + 30 * MIN),
        ),
        (
            "Ops",
            "ops-api",
            "HighErrorRate",
            "sev2",
            at(END - 3 * DAY + HOUR),
            at(END - 3 * DAY + HOUR + 10 * MIN),
        ),
        (
            "Search",
            None,
            "SearchDown",
            "sev2",
            at(END - 2 * DAY + 5 * HOUR),
            at(END - 2 * DAY + 5 * HOUR + 20 * MIN),
        ),
        ("Ops", "ops-api", "DiskFull", "sev1", at(END - DAY), None),
    ]
    assert result.stats.items["alerts_too_short"] == 1  # LatencyHigh, 3 minutes
    assert len({r["id"] for r in incidents}) == 4
    # ALERTS is read over 8 days at one-minute resolution: two requests under the point cap
    report = service.report_from_frames(
        result.frames, config, request=service.score_request(config, as_of=at(END), now=at(END))
    )
    assert report.table.loc["Ops", "incidents"] == 3
    assert report.table.loc["Ops", "incidents_open"] == 1
    assert report.table.loc["Ops", "recovery_time_p50_hours"] == pytest.approx((1.5 + 10 / 60) / 2)


def test_alert_incidents_are_incremental_and_open_ones_continue(
    prom_url: str, full: SourceResult
) -> None:
    config = make_config(prom_url)
    first = fetch(config, until=END - 12 * HOUR)
    open_first = [r for r in records(first.frames["incidents"]) if r["resolved_at"] is None]
    assert [r["title"].split(" ")[0] for r in open_first] == ["DiskFull"]
    second = fetch(
        config,
        state=first.state,
        load_previous=lambda: first.frames,
    )
    assert second.stats.requests < first.stats.requests + 3  # only the new half-day
    key = lambda r: (r["id"], r["created_at"], r["resolved_at"])  # noqa: E731
    assert sorted(map(key, records(second.frames["incidents"]))) == sorted(
        map(key, records(full.frames["incidents"]))
    )


def test_alert_teams_limit_incidents_to_teams_without_an_incident_tool(prom_url: str) -> None:
    config = make_config(
        prom_url, **{"alert_min_minutes = 5": 'alert_min_minutes = 5\nalert_teams = ["ops"]'}
    )
    result = fetch(config)
    assert {r["team"] for r in records(result.frames["incidents"])} == {"Ops"}
    assert result.stats.items["alerts_other_teams"] == 1


def test_team_queries_and_a_bad_query_named_with_its_team(full: SourceResult) -> None:
    result = full
    slo = result.state["slo"]
    burn = [e for e in slo["Ops"] if e["name"] == "error budget burn (1h)"]
    assert [(e["value"], e["labels"]) for e in burn] == [(2.5, {"service": "ops-api"})]
    assert [e["value"] for e in slo["unassigned"] if e["name"].startswith("error")] == [0.5]
    availability = {
        team: [e for e in entries if e["name"] == "availability"] for team, entries in slo.items()
    }
    assert [e["value"] for e in availability["Payments"]] == [pytest.approx(0.999)]
    assert [e["value"] for e in availability["Search"]] == [pytest.approx(0.95)]
    assert [(e["value"], e["value_text"]) for e in availability["Ops"]] == [(None, "no data")]
    rendered = availability["Payments"][0]["query"]
    assert rendered == 'avg(slo:availability:ratio{service=~"ledger-writer|payments-api"})'
    # the broken query: one clear message naming it, an error entry for each team, and
    # everything else (rollouts, incidents, the other queries) still delivered
    broken = [p for p in result.problems if "'broken'" in p]
    assert len(broken) == 1
    assert "bad_data" in broken[0] and "parse error" in broken[0] and "all teams" in broken[0]
    for team in ("Payments", "Search", "Ops"):
        errors = [e for e in slo[team] if e["name"] == "broken"]
        assert len(errors) == 1 and "bad_data" in errors[0]["error"]
    assert not result.complete
    assert len(result.frames["rollouts"]) > 0 and len(result.frames["incidents"]) == 4


BROKEN = '"broken" = "sum(rate(http_requests_total[5m])"'


def test_bad_templated_query_names_each_team(prom_url: str) -> None:
    config = make_config(
        prom_url,
        **{BROKEN: '"broken" = \'sum(rate(x{service=~"$services"}[5m])\''},
    )
    result = fetch(config)
    broken = sorted(p for p in result.problems if "'broken'" in p)
    assert [p.split("(")[1].split(")")[0] for p in broken] == [
        "team Ops",
        "team Payments",
        "team Search",
    ]


def test_sync_stores_samples_incidents_and_query_results(prom_url: str, tmp_path: Path) -> None:
    config = make_config(prom_url)
    store = Store(tmp_path / "cache")
    summary = asyncio.run(
        sync.sync(config, store, ScoreRequest.resolve(as_of=at(END), now=at(END)))
    )
    outcome = summary.outcomes[0]
    assert outcome.ok and not outcome.complete  # the broken query: partial, not failed
    assert any("'broken'" in p for p in outcome.problems)
    frames = store.load(sources=["prom"])
    assert len(frames["rollouts"]) > 0 and len(frames["incidents"]) == 4
    assert store.state("prom")["slo"]["Ops"][0]["value"] == 2.5
    # the query results reach the JSON export (per team, under "extras")
    card = service.cached_scorecard(
        config,
        Store(tmp_path / "cache", read_only=True),
        service.score_request(config, as_of=at(END)),
    )
    extras = service.extras(Store(tmp_path / "cache", read_only=True), config)
    doc = json.loads(export.render(card.report, "json", extras=extras))
    burn = [e for e in doc["extras"]["Ops"]["slo"] if e["name"] == "error budget burn (1h)"]
    assert [(e["value"], e["at"]) for e in burn] == [(2.5, iso(at(END)))]
    assert doc["extras"]["Payments"]["slo_at"] == iso(at(END))
    assert "extras" not in json.loads(export.render(card.report, "json"))
    assert "extras" not in export.render(card.report, "csv", extras=extras)


def test_config_check_probe_names_a_bad_query(prom_url: str) -> None:
    config = make_config(prom_url)
    source = build_source(config.source("prom"), config=config)
    with pytest.raises(SourceError) as info:
        asyncio.run(source.probe())  # type: ignore[attr-defined]
    message = str(info.value)
    assert message.startswith("Prometheus 2.") and "2 of 3 queries ok" in message
    assert "query 'broken': bad_data" in message
    good = make_config(prom_url, **{BROKEN: ""})
    detail = asyncio.run(build_source(good.source("prom"), config=good).probe())  # type: ignore[attr-defined]
    assert detail.endswith("2 of 2 queries ok")


# --- errors, against a fake server (no Prometheus needed) -------------------------------------


def fake_config(url: str, queries: dict[str, str]) -> Config:
    lines = "\n".join(f'"{k}" = {json.dumps(v)}' for k, v in queries.items())
    return parse_config(
        f"""
[sources.prom]
kind = "prometheus"
url = "{url}"
token_env = "PROM_TEST_TOKEN"
headers = {{ "X-Scope-OrgID" = "tenant-1" }}

[sources.prom.queries]
{lines}

[[teams]]
name = "Ops"
services = ["ops-api"]
"""
    )


def serve_prometheus(server: FakeServer, answers: dict[str, Reply]) -> None:
    empty_matrix = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    empty_vector = {"status": "success", "data": {"resultType": "vector", "result": []}}

    def query(request: Request, srv: FakeServer) -> Reply:
        return answers.get(request.query.get("query", ""), Reply(200, empty_vector))

    server.route("/api/v1/query_range", lambda r, s: Reply(200, empty_matrix))
    server.route("/api/v1/query", query)


@pytest.mark.parametrize(
    ("status", "error_type", "message"),
    [
        (400, "bad_data", 'invalid parameter "query": 1:5: parse error: unexpected end of input'),
        (422, "execution", "expanding series: query processing would load too many samples"),
        (503, "timeout", "query timed out in expression evaluation"),
    ],
)
def test_prometheus_errors_name_the_query_and_team(
    fake_server: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
    waits: list[float],
    status: int,
    error_type: str,
    message: str,
) -> None:
    monkeypatch.setenv("PROM_TEST_TOKEN", "prom-secret-token-123")
    serve_prometheus(
        fake_server,
        {
            "bad": Reply(status, {"status": "error", "errorType": error_type, "error": message}),
            "up": Reply(
                200,
                {
                    "status": "success",
                    "data": {
                        "resultType": "vector",
                        "result": [{"metric": {"team": "ops"}, "value": [1, "1"]}],
                    },
                },
            ),
        },
    )
    config = fake_config(fake_server.url, {"latency": "bad", "uptime": "up"})
    result = fetch(config)
    assert result.problems == [f"query 'latency' (all teams): {error_type}: {message}"]
    assert [(e["name"], e["value"]) for e in result.state["slo"]["Ops"]] == [
        ("latency", None),
        ("uptime", 1.0),
    ]
    assert len([r for r in fake_server.log if r.query.get("query") == "bad"]) == 1  # never retried
    sent = fake_server.log[0].headers
    assert sent["authorization"] == "Bearer prom-secret-token-123"
    assert sent["x-scope-orgid"] == "tenant-1"


def test_basic_auth_and_an_unreachable_server_fails_the_source(
    monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> None:
    monkeypatch.setenv("PROM_TEST_TOKEN", "pw-123456")
    config = parse_config(
        f"""
[sources.prom]
kind = "prometheus"
url = "http://127.0.0.1:{free_port()}"
auth = "basic"
username = "grafana"
token_env = "PROM_TEST_TOKEN"
timeout_s = 2

[[teams]]
name = "Ops"
services = ["ops-api"]
"""
    )
    source = prometheus.PrometheusSource(config.source("prom"), config=config)
    headers, secrets = source.origin_headers(auth_token(config.source("prom")))
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"grafana:pw-123456").decode()
    assert "pw-123456" in secrets
    with pytest.raises(SourceError, match="ConnectError"):
        fetch(config)


def test_rollout_changes_and_severity_mapping() -> None:
    step = 600
    canary = {t: float(t) for t in range(0, 6000, step)}
    blue = {t: float(t) for t in range(6000, 9000, step)}
    changes = promql.rollout_changes({"canary": canary, "blue_green": blue}, step, 12000)
    assert changes == [(at(0), "canary"), (at(6000), "blue_green"), (at(9000), "unknown")]
    assert monitoring.severity_of("critical") == "sev2"
    assert monitoring.severity_of("SEV4") == "sev4"
    assert monitoring.severity_of("odd") == "sev3"
    assert monitoring.severity_of("odd", {"odd": "sev1"}) == "sev1"
    assert promql.strategy_of("blueGreen", None) == "blue_green"
    assert promql.strategy_of("", "canary") == "canary"
