"""The circleci source: parsing held to CircleCI's published OpenAPI description, and
syncs against a fake CircleCI (next_page_token pages, 429 with Retry-After, 401s)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard.config import Config
from scorecard.request import ScoreRequest
from scorecard.sources import circleci
from scorecard.store import Store
from scorecard.sync import plan, sync
from tests.api_specs import load_spec, resolve, response_schema, validate
from tests.fakes.circleci import FakeCircleCI, Request
from tests.fakes.server import FakeServer, Reply
from tests.source_config import payments_and_search, source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
TOKEN = "CCIPAT_SENTINEL_0123456789abcdef"
SEARCH_SLUG = "circleci/4f1c0d2e/9a2e7b31"
PAY_PIPELINES = "/api/v2/project/gh/acme/payments-api/pipeline"


def spec() -> dict[str, Any]:
    return load_spec("circleci", "openapi.json")


def example_of(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A payload built from a schema's own `example` values (typed stand-ins where
    the description gives none): the description's examples, fed to the parsers."""
    schema = resolve(doc, schema)
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: example_of(doc, v) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [example_of(doc, schema.get("items") or {})]
    if kind == "integer":
        return 1
    if kind == "boolean":
        return False
    stand_ins = {
        "date-time": "2024-03-01T10:00:00Z",
        "uuid": "0f0e0d0c-0b0a-4000-8000-000000000001",
    }
    return stand_ins.get(schema.get("format", ""), "x")


def listing_item_schema(doc: dict[str, Any], path: str) -> dict[str, Any]:
    return resolve(doc, response_schema(doc, path)["properties"]["items"]["items"])


# --- the published description ---------------------------------------------------------------


def test_every_documented_status_has_a_meaning() -> None:
    doc = spec()
    workflow = listing_item_schema(doc, "/pipeline/{pipeline-id}/workflow")
    job = listing_item_schema(doc, "/workflow/{id}/job")
    assert set(workflow["properties"]["status"]["enum"]) == set(circleci.WORKFLOW_STATUSES)
    assert set(job["properties"]["status"]["enum"]) == set(circleci.JOB_STATUSES)


def test_the_descriptions_examples_parse() -> None:
    doc = spec()
    pipeline = example_of(doc, listing_item_schema(doc, "/project/{project-slug}/pipeline"))
    workflow = example_of(doc, listing_item_schema(doc, "/pipeline/{pipeline-id}/workflow"))
    job = example_of(doc, listing_item_schema(doc, "/workflow/{id}/job"))
    for path, payload in (
        ("/project/{project-slug}/pipeline", pipeline),
        ("/pipeline/{pipeline-id}/workflow", workflow),
        ("/workflow/{id}/job", job),
    ):
        validate(doc, response_schema(doc, path), {"items": [payload], "next_page_token": None})
    assert circleci.slug_repo(pipeline["project_slug"]) == "CircleCI-Public/api-preview-docs"
    run = circleci.workflow_run(
        workflow, pipeline, conclusion="success", repo="a/b", team="T", source="cci"
    )
    assert run is not None and run["workflow"] == "build-and-test"
    assert run["commit_sha"] == "f454a02b5d10fcccfd7d9dd7608a76d6493a98b4"
    assert run["branch"] == "feature/design-new-api"
    deploy = circleci.job_deployment(
        job,
        pipeline,
        workflow,
        status="success",
        environment="production",
        repo="a/b",
        team="T",
        source="cci",
    )
    assert deploy is not None and deploy["id"] == "a/b/jobs/1"
    assert deploy["url"].endswith(
        f"/pipelines/gh/CircleCI-Public/api-preview-docs/25/workflows/{workflow['id']}/jobs/1"
    )
    assert (
        circleci.workflow_run({}, pipeline, conclusion="success", repo="a", team=None, source="c")
        is None
    )


def test_the_fakes_answers_match_the_description() -> None:
    doc = spec()
    fake = build_org(FakeServer())
    project = fake.projects["gh/acme/payments-api"]
    pipeline = project.pipelines[0]
    workflow = fake.workflows[pipeline["id"]][0]
    search = fake.projects[SEARCH_SLUG].pipelines[0]
    deploys = fake.workflows[search["id"]][0]
    answers = {
        "/project/{project-slug}": f"project/{project.slug}",
        "/project/{project-slug}/pipeline": f"project/{project.slug}/pipeline",
        "/pipeline/{pipeline-id}/workflow": f"pipeline/{pipeline['id']}/workflow",
        "/workflow/{id}/job": f"workflow/{deploys['id']}/job",
    }
    for template, path in answers.items():
        reply = fake.handle(
            Request("GET", "/api/v2/" + path, {}, {"circle-token": TOKEN}), fake.server
        )
        assert reply.status == 200, path
        validate(doc, response_schema(doc, template), reply.body)
    assert workflow["status"] in ("success", "failed")


def test_project_slugs_map_to_repos_and_bad_ones_are_named() -> None:
    assert circleci.slug_repo("gh/acme/api") == "acme/api"
    assert circleci.slug_repo("bb/acme/api") == "acme/api"
    assert circleci.slug_repo("acme/api") is None
    options = circleci.CircleCIOptions(projects=("acme/api", "circleci/o/p"))
    problems = list(options.problems(["T"]))
    assert [p.key for p in problems] == ["projects", "projects"]
    assert "not a project slug" in problems[0].message
    assert "does not name its repo" in problems[1].message


# --- syncs against the fake -----------------------------------------------------------------


def build_org(server: FakeServer) -> FakeCircleCI:
    fake = FakeCircleCI(server, TOKEN)
    pay = fake.project("gh/acme/payments-api")
    for i in reversed(range(30)):  # 30 pipelines: two pages
        workflows = [("build-test", "failed" if i % 5 == 0 else "success")]
        if i % 3 == 0:
            workflows.append(("deploy-prod", "success"))
        fake.pipeline(pay, NOW - HOUR - i * 12 * HOUR, workflows)
    fake.pipeline(pay, NOW - 2 * DAY, [("build-test", "failed")], branch="feature")
    fake.pipeline(pay, NOW - HOUR / 2, [("build-test", "running")])
    search = fake.project(SEARCH_SLUG, default_branch="trunk")
    steps = [("test", "success"), ("deploy-canary", "success"), ("deploy", "success")]
    for day in range(4, 0, -1):
        fake.pipeline(search, NOW - day * DAY, [("main", "success")], jobs={"main": steps})
    return fake


def org_config(fake: FakeCircleCI, **options: Any) -> Config:
    source = source_config(
        name="cci",
        kind="circleci",
        api_url=fake.url,
        token_env="CCI_TEST_TOKEN",
        timeout_s=5,
        options={
            "projects": ("gh/acme/payments-api", SEARCH_SLUG),
            "project_repos": {SEARCH_SLUG: "acme/search"},
            "deploy_workflows": ("deploy-*",),
            "deploy_jobs": ("deploy*",),
            **options,
        },
    )
    return payments_and_search(source)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CCI_TEST_TOKEN", TOKEN)
    return TOKEN


async def test_full_sync(fake_server: FakeServer, token: str, tmp_path: Path) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert all(r.headers["circle-token"] == token for r in fake_server.log)
    listings = fake_server.requests(PAY_PIPELINES)
    assert [r.query.get("branch") for r in listings] == ["main", "main"]
    assert "page-token" in listings[1].query  # the second page, by next_page_token

    frames = store.load()
    runs = frames["ci_runs"]
    pay = runs[runs["repo"] == "acme/payments-api"]
    assert len(pay) == 30 and (pay["conclusion"] == "failure").sum() == 6
    assert set(pay["team"]) == {"Payments"} and pay["is_default_branch"].all()
    deployments = frames["deployments"]
    pay_deploys = deployments[deployments["repo"] == "acme/payments-api"]
    assert len(pay_deploys) == 10 and set(pay_deploys["environment"]) == {"production"}
    search = deployments[deployments["repo"] == "acme/search"].set_index("environment")
    assert sorted(search.index) == ["deploy-canary"] * 4 + ["production"] * 4
    assert set(search.loc["production", "strategy"]) == {"canary"}
    assert set(search["team"]) == {"Search"}
    status = store.statuses()["cci"]
    assert status.stats.items["ci_runs"] == 34 and status.stats.items["deployments"] == 18


async def test_resync_reads_only_past_the_bookmark(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    config = org_config(fake)
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    pay = fake.projects["gh/acme/payments-api"]
    fake.pipeline(pay, NOW + HOUR, [("build-test", "success")])
    running = fake.workflows[pay.pipelines[-2]["id"]][0]
    running.update(status="success", stopped_at=running["created_at"])
    fake_server.log.clear()
    summary = await sync(config, store, ScoreRequest.resolve(now=NOW + 2 * HOUR))
    assert summary.outcomes[0].last_error is None
    assert len(fake_server.requests(PAY_PIPELINES)) == 1  # stops at the bookmark
    workflow_reads = [r for r in fake_server.log if r.path.endswith("/workflow")]
    assert len(workflow_reads) <= 6  # the day before the bookmark, and Search's
    runs = store.load()["ci_runs"]
    assert len(runs[runs["repo"] == "acme/payments-api"]) == 32  # the new and the finished


async def test_rate_limits_and_5xx_are_retried(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = build_org(fake_server)
    limited = Reply(429, {"message": "Rate limit exceeded"}, {"Retry-After": "3"})
    fake_server.fault(PAY_PIPELINES, limited, Reply(502, {"message": "Bad gateway"}))
    first = fake.projects[SEARCH_SLUG].pipelines[0]["id"]
    fake_server.fault(f"/api/v2/pipeline/{first}/workflow", Reply(200, b'{"items": ['))
    summary = await sync(org_config(fake), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None
    assert outcome.stats.retries == 2 and waits[0] == 3.0
    assert outcome.stats.malformed == 1 and outcome.skipped >= 1 and not outcome.complete
    assert outcome.stats.items["ci_runs"] == 33


async def test_unknown_statuses_are_counted_and_named(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    pay = fake.projects["gh/acme/payments-api"]
    fake.pipeline(pay, NOW - 3 * HOUR, [("build-test", "exploded")])
    summary = await sync(org_config(fake), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert any("unknown CircleCI workflow status 'exploded' on 1" in p for p in outcome.problems)
    assert outcome.skipped == 1 and outcome.stats.items["unknown_status"] == 1


async def test_missing_or_rejected_token_is_a_clear_error(
    fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = build_org(fake_server)
    monkeypatch.delenv("CCI_TEST_TOKEN", raising=False)
    summary = await sync(org_config(fake), Store(tmp_path / "a"), ScoreRequest.resolve(now=NOW))
    error = summary.outcomes[0].last_error
    assert error is not None and "no CircleCI token" in error and "auth set cci" in error
    assert not fake_server.log
    wrong = "CCIPAT_WRONG_9876543210"
    monkeypatch.setenv("CCI_TEST_TOKEN", wrong)
    summary = await sync(org_config(fake), Store(tmp_path / "b"), ScoreRequest.resolve(now=NOW))
    error = summary.outcomes[0].last_error
    assert error is not None and "401" in error and wrong not in error


async def test_probe_for_config_check(fake_server: FakeServer, token: str) -> None:
    from scorecard.sources.registry import build_source

    fake = build_org(fake_server)
    config = org_config(fake)
    source: Any = build_source(config.sources[0], config=config)
    assert await source.probe() == "2 projects reachable, rate limit 9,990 left"
    assert {r.path for r in fake_server.log} == {
        "/api/v2/project/gh/acme/payments-api",
        f"/api/v2/project/{SEARCH_SLUG}",
    }


def test_config_sync_export_end_to_end(
    fake_server: FakeServer,
    token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from scorecard import cli

    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    fake = build_org(fake_server)
    config = tmp_path / "scorecard.toml"
    config.write_text(
        f"""
[sources.cci]
kind = "circleci"
api_url = "{fake.url}"
token_env = "CCI_TEST_TOKEN"
projects = ["gh/acme/payments-api", "{SEARCH_SLUG}"]
deploy_workflows = ["deploy-*"]
deploy_jobs = ["deploy*"]

[sources.cci.project_repos]
"{SEARCH_SLUG}" = "acme/search"

[[teams]]
name = "Payments"
repos = ["acme/payments-api"]

[[teams]]
name = "Search"
repos = ["acme/search"]
""",
        encoding="utf-8",
    )
    as_of = ["--as-of", NOW.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert cli.main(["sync", "--config", str(config), *as_of]) == 0
    _out, err = capsys.readouterr()
    assert TOKEN not in err
    code = cli.main(["export", "--config", str(config), "--offline", "--format", "json", *as_of])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = {row["team"]: row for row in json.loads(out)["rows"]}
    pay, search = rows["Payments"], rows["Search"]
    assert pay["deploys"] == 10 and pay["ci_success_rate"] == pytest.approx(24 / 30)
    assert pay["canary_share"] == pytest.approx(0.0)
    assert search["deploys"] == 4 and search["canary_share"] == pytest.approx(1.0)
    assert search["ci_success_rate"] == pytest.approx(1.0)
    assert TOKEN not in out


async def test_plan_before_a_first_sync_is_within_a_fifth_of_what_it_spends(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    config = replace(org_config(fake), history_days=14)  # the fake's history spans it
    request = ScoreRequest.resolve(now=NOW, window_days=7)
    cache = tmp_path / "cache"
    [estimate] = await plan(config, Store(cache, read_only=True), request, only="cci")
    assert estimate.error is None and estimate.requests is not None, estimate
    assert not cache.exists(), "a plan writes nothing"
    # per project its page and first pipeline page, and a few workflow listings
    assert estimate.spent <= 2 * (2 + 3)
    assert estimate.rest is not None and estimate.rest.limit == 10_000
    assert estimate.rest.remaining == 9_990 and estimate.rest.reset_at == NOW + 30 * MINUTE
    store = Store(cache)
    await sync(config, store, request)
    spent = store.statuses()["cci"].stats.spent
    assert abs(estimate.requests - spent) <= 0.2 * spent, (estimate.requests, spent)
    # the first 20 of 29 cover 9 of the 14 days; Search's 4 fit on one page
    assert "~35 pipelines" in estimate.basis, estimate.basis
