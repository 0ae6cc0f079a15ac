"""The azure-devops source: parsing checked against Azure DevOps' published Swagger
and example payloads, and syncs against a fake Azure DevOps (continuation tokens,
``$top``/``$skip``, 304s, retries, auth), end to end to the export."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard.config import Config, TeamConfig
from scorecard.request import ScoreRequest
from scorecard.sources import azure_devops_records as records
from scorecard.sources.azure_devops import AzureDevOpsOptions, AzureDevOpsSource
from scorecard.sources.contract import FetchContext
from scorecard.store import Store
from scorecard.sync import sync
from tests.api_specs import load_spec, resolve, response_schema, spec_dir, validate
from tests.fakes.azure_devops import ORG, FakeAzureDevOps, FakeProject
from tests.fakes.server import FakeServer, Reply
from tests.source_config import source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TOKEN = "azdopat-SENTINEL0123456789abcdefghijklmnop"
SPECS = {
    "build": "build/7.1/build.json",
    "git": "git/7.1/git.json",
    "distributedTask": "distributedTask/7.1/taskAgent.json",
}
PREFIX = "/{organization}/{project}/_apis"


def example(relpath: str) -> dict[str, Any]:
    """One of Azure DevOps' official httpExamples (read in place, never copied)."""
    path = spec_dir("azure-devops") / relpath
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    assert isinstance(data, dict)
    return data


def check(spec_key: str, path: str, payload: Any) -> None:
    """``payload`` (a list's ``value`` or an object) against the operation's 200 schema."""
    spec = load_spec("azure-devops", SPECS[spec_key])
    validate(spec, response_schema(spec, PREFIX + path), payload)


# --- parsing against the vendor's examples ---------------------------------------------------


def test_completed_pull_requests_of_the_official_example_become_changes() -> None:
    body = example(
        "git/7.1/httpExamples/pullRequests/"
        "GET__git_repositories__repositoryId__pullRequests_status-completed.json"
    )["responses"]["200"]["body"]
    check("git", "/git/repositories/{repositoryId}/pullrequests", body["value"])
    pull = body["value"][0]
    change = records.change_record(pull, repo="p/r", team="T", source="az")
    assert change is not None
    assert change["id"] == f"p/r/pullrequests/{pull['pullRequestId']}"
    assert change["merged_at"] == records.parse_time(pull["closedDate"])
    assert change["merged_at"].microsecond == 41391  # seven digits, cut to microseconds
    assert change["merge_sha"] == pull["lastMergeCommit"]["commitId"]
    active = records.change_record({**pull, "status": "active"}, repo="p/r", team=None, source="az")
    assert active is None


def test_every_official_pull_request_example_parses_or_is_left_out() -> None:
    folder = spec_dir("azure-devops") / "git/7.1/httpExamples/pullRequests"
    seen = 0
    for path in sorted(folder.glob("GET__*.json")):
        body = json.loads(path.read_text(encoding="utf-8-sig"))["responses"]["200"]["body"]
        for pull in body.get("value", [body]):
            change = records.change_record(pull, repo="p/r", team=None, source="az")
            assert (change is not None) == (pull.get("status") == "completed"), path.name
            seen += 1
    assert seen >= 5


def test_first_commit_is_the_earliest_author_date_of_the_official_commits_example() -> None:
    body = example("git/7.1/httpExamples/commits/GET__git_repositories__repositoryId__commits.json")
    commits = body["responses"]["200"]["body"]["value"]
    check("git", "/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/commits", commits)
    expected = min(records.parse_time(c["author"]["date"]) for c in commits)
    assert records.first_commit_time(commits) == expected


def test_build_timeline_and_deployment_record_parsing() -> None:
    project = FakeProject("Payments")
    repo = project.repo("payments-api")
    build = project.build(41, repo, NOW, result="partiallySucceeded")
    project.stage(41, "Build")
    project.stage(41, "Deploy_Prod", result="failed")
    project.environment(3, "production")
    project.deploy(3, 9, 41, NOW - timedelta(minutes=5), result=None)
    check("build", "/build/builds", [build])
    check("build", "/build/builds/{buildId}/timeline/{timelineId}", project.timelines[41])
    env_path = "/distributedtask/environments/{environmentId}/environmentdeploymentrecords"
    check("distributedTask", env_path, project.records[3])

    run = records.build_record(
        build, repo="Payments/payments-api", team="T", source="az", default_branch="main"
    )
    assert run is not None and run["conclusion"] == "other" and run["is_default_branch"]
    assert run["workflow"] == "ci" and run["commit_sha"] == f"{41:040x}"
    ref = records.build_ref(build)
    assert ref is not None and ref.repo_name == "payments-api" and ref.branch == "main"
    stages = records.stage_deployments(
        project.timelines[41],
        ref,
        ["deploy*"],
        repo="Payments/payments-api",
        team="T",
        source="az",
        environment="production",
    )
    assert [(s["id"], s["status"]) for s in stages] == [
        ("Payments/payments-api/builds/41/stages/Deploy_Prod", "failure")
    ]
    pending = records.environment_deployment(
        project.records[3][0],
        ref,
        repo="Payments/payments-api",
        team="T",
        source="az",
        environment="production",
    )
    assert pending is not None and pending["status"] == "in_progress"
    assert pending["finished_at"] is None and pending["commit_sha"] == f"{41:040x}"


def test_the_organization_is_part_of_the_base_url() -> None:
    cloud = AzureDevOpsOptions(organization="fabrikam")
    assert cloud.base_url == "https://dev.azure.com/fabrikam"
    server = AzureDevOpsOptions(api_url="https://tfs.acme.example/tfs", organization="Default Coll")
    assert server.base_url == "https://tfs.acme.example/tfs/Default%20Coll"
    assert [p.key for p in AzureDevOpsOptions(organization=" ").problems([])] == ["organization"]


# --- a fake organization -----------------------------------------------------------------------


def build_org(server: FakeServer) -> FakeAzureDevOps:
    fake = FakeAzureDevOps(server, TOKEN)
    pay = fake.project("Payments")
    api = pay.repo("payments-api")
    web = pay.repo("payments-web", default_branch="trunk")
    pay.repo("unlisted")
    for i in range(230):  # three pages of runs on the default branch
        pay.build(
            1000 + i,
            api,
            NOW - timedelta(hours=3 + 12 * i),
            result="failed" if i % 10 == 0 else "succeeded",
        )
    pay.build(1900, api, NOW - DAY, branch="feature/x")
    pay.build(1901, web, NOW - 2 * DAY)
    pay.build(1902, pay.repos["unlisted"], NOW - DAY)
    pay.build(1903, api, NOW - 3 * DAY, repo_type="GitHub")
    pay.environment(1, "staging")
    pay.environment(2, "production")
    pay.environment(3, "canary")
    pay.deploy(3, 10, 1001, NOW - 5 * DAY)  # canary first, then production
    pay.deploy(2, 11, 1001, NOW - 5 * DAY + timedelta(hours=1))
    pay.deploy(2, 12, 1004, NOW - 2 * DAY, result="failed")
    pay.deploy(1, 13, 1005, NOW - DAY)  # staging: not read
    pay.deploy(2, 14, 1901, NOW - 2 * DAY)  # payments-web
    pay.build(1500, api, NOW - 4 * DAY, running=True)  # not in the completed runs' listing
    pay.deploy(2, 15, 1500, NOW - 4 * DAY)
    pay.deploy(2, 16, 1902, NOW - DAY)  # a repo no team lists
    pay.deploy(2, 17, 1000, NOW - timedelta(hours=2), result=None)  # still running
    api.pull(7, NOW - 4 * DAY, NOW - 6 * DAY)
    api.pull(8, NOW - 2 * DAY, NOW - 2 * DAY - timedelta(hours=5), title='Revert "x"')
    api.pull(9, NOW - 400 * DAY, NOW - 401 * DAY)  # closed before the history
    api.pull(10, NOW - DAY, NOW - 2 * DAY, target="release/1")
    web.pull(3, NOW - 3 * DAY, NOW - 3 * DAY - timedelta(hours=2), commits=250)
    ops = fake.project("Platform")
    deploy_repo = ops.repo("ops")
    for i in range(4):
        ops.build(50 + i, deploy_repo, NOW - (i + 1) * DAY, pipeline="ops-cd")
        ops.stage(50 + i, "Build")
        ops.stage(50 + i, "Deploy" if i % 2 == 0 else "Verify")
    ops.build(60, deploy_repo, NOW - DAY, pipeline="ops-ci")
    return fake


def org_config(fake: FakeAzureDevOps, **options: Any) -> Config:
    source = source_config(
        name="az",
        kind="azure-devops",
        api_url=fake.url,
        token_env="AZDO_TEST_TOKEN",
        timeout_s=5,
        options={
            "organization": ORG,
            "projects": ["Payments", "Platform"],
            "deploy_pipelines": ["*-cd"],
            "deploy_stages": ["deploy*"],
            **options,
        },
    )
    return Config(
        path=None,
        teams=(
            TeamConfig(name="Payments", repos=("Payments/payments-api", "Payments/payments-web")),
            TeamConfig(name="Platform", repos=("Platform/ops", "acme/github-repo")),
        ),
        sources=(source,),
    )


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AZDO_TEST_TOKEN", TOKEN)
    return TOKEN


async def test_full_sync(fake_server: FakeServer, token: str, tmp_path: Path) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    keys = [(r.path, tuple(sorted(r.query.items()))) for r in fake_server.log]
    assert len(keys) == len(set(keys)), [k for k, n in Counter(keys).items() if n > 1]
    assert not any(r.path.startswith("/acme") for r in fake_server.log)  # not an Azure repo

    frames = store.load()
    deployments = frames["deployments"].set_index("id")
    api = "Payments/payments-api"
    assert sorted(deployments.index) == sorted(
        [f"{api}/deployments/{n}" for n in (10, 11, 12, 15, 17)]
        + ["Payments/payments-web/deployments/14"]
        + ["Platform/ops/builds/50/stages/Deploy", "Platform/ops/builds/52/stages/Deploy"]
    )
    assert deployments.loc[f"{api}/deployments/11", "strategy"] == "canary"
    assert deployments.loc[f"{api}/deployments/11", "commit_sha"] == f"{1001:040x}"
    assert deployments.loc[f"{api}/deployments/12", "status"] == "failure"
    assert deployments.loc[f"{api}/deployments/15", "commit_sha"] == f"{1500:040x}"  # looked up
    assert deployments.loc[f"{api}/deployments/17", "status"] == "in_progress"
    assert deployments.loc["Platform/ops/builds/50/stages/Deploy", "environment"] == "production"
    assert deployments.loc["Platform/ops/builds/50/stages/Deploy", "team"] == "Platform"
    assert deployments.loc["Payments/payments-web/deployments/14", "service"] == "payments-web"

    runs = frames["ci_runs"]
    pay = runs[runs["repo"] == api]
    assert len(pay) == 230 and pay["is_default_branch"].all()
    assert (pay["conclusion"] == "failure").sum() == 23
    assert set(runs[runs["repo"] == "Platform/ops"]["workflow"]) == {"ops-ci"}  # cd is not CI
    build_pages = [r for r in fake_server.log if r.path == f"/{ORG}/Payments/_apis/build/builds"]
    assert sum("continuationToken" in r.query for r in build_pages) == 2

    changes = frames["changes"].set_index("id")
    assert sorted(changes.index) == [
        f"{api}/pullrequests/7",
        f"{api}/pullrequests/8",
        "Payments/payments-web/pullrequests/3",
    ]
    assert changes.loc[f"{api}/pullrequests/7", "first_commit_at"] == NOW - 6 * DAY
    web_first = changes.loc["Payments/payments-web/pullrequests/3", "first_commit_at"]
    assert web_first == NOW - 3 * DAY - timedelta(hours=2)  # read across three commit pages
    assert list(changes.loc[f"{api}/pullrequests/7", "labels"]) == ["backend"]
    status = store.statuses()["az"]
    assert status.stats.items["ci_runs"] >= 230 and status.stats.items["changes"] == 3


async def test_what_the_fake_serves_matches_the_published_schemas(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    await sync(org_config(fake), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    kinds = Counter(path for _, path, _ in fake.served)
    assert len(kinds) == 7, kinds  # every operation the source reads (paths aside: below)
    for spec_key, path, payload in fake.served:
        check(spec_key, path, payload)


async def test_unchanged_resync_is_cheap_and_new_items_merge(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    config = org_config(fake)
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    first = len(fake_server.log)
    fake_server.log.clear()
    summary = await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(minutes=5)))
    assert summary.outcomes[0].last_error is None
    full_answers = [r for r in fake_server.log if r.status == 200]
    # Only the pull request listings (their closed-since time moves) are read in full.
    assert all("pullrequests" in r.path for r in full_answers), [r.path for r in full_answers]
    # Per project its repos, its runs' and environments' first pages, each production or
    # canary environment's records (2 + 2 + 2 + 2), and one listing per repo's pulls (3).
    assert len(fake_server.log) == 11 < first / 2
    web_pulls = [r for r in fake_server.log if "pullrequests" in r.path and r.path.count("/") > 6]
    assert {r.query["searchCriteria.targetRefName"] for r in web_pulls} == {
        "refs/heads/main",
        "refs/heads/trunk",  # payments-web's default branch, remembered from the 304's page
    }

    pay = fake.projects["Payments"]
    api = pay.repos["payments-api"]
    api.pull(11, NOW + timedelta(hours=1), NOW - DAY)
    pay.build(2000, api, NOW + timedelta(hours=1))
    pay.deploy(2, 18, 2000, NOW + timedelta(hours=1, minutes=5))
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(hours=3)))
    frames = store.load()
    assert "Payments/payments-api/pullrequests/11" in set(frames["changes"]["id"])
    assert "Payments/payments-api/deployments/18" in set(frames["deployments"]["id"])
    assert len(frames["ci_runs"]) == 230 + 1 + 1 + 1  # api, web, ops-ci and the new run
    commit_reads = [r for r in fake_server.log if r.path.endswith("/commits")]
    assert len(commit_reads) == 1  # only the new pull request's; the others are cached


async def test_retries_rate_limits_bad_json_and_a_missing_repo(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = build_org(fake_server)
    fake.projects["Payments"].repos.pop("payments-web")
    base = f"/{ORG}/Payments/_apis"
    fake_server.fault(f"{base}/build/builds", Reply(429, {}, {"Retry-After": "2"}), Reply(503))
    fake_server.fault(f"{base}/distributedtask/environments", Reply(200, b'{"count": 3, '))
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete
    assert outcome.stats.retries == 2 and waits[0] == 2.0
    assert outcome.stats.malformed == 1
    assert any("payments-web: no such Git repository" in p for p in outcome.problems)
    frames = store.load()
    assert len(frames["ci_runs"][frames["ci_runs"]["repo"] == "Payments/payments-api"]) == 230
    assert not frames["deployments"]["id"].str.contains("/deployments/").any()  # page skipped


async def test_a_wrong_token_fails_the_source_without_showing_it(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    monkeypatch.setenv("AZDO_TEST_TOKEN", "wrong-SENTINEL-token-0123456789")
    summary = await sync(org_config(fake), Store(tmp_path / "c"), ScoreRequest.resolve(now=NOW))
    error = summary.outcomes[0].last_error or ""
    assert "HTTP 401" in error and "SENTINEL" not in error


async def test_probe_and_plan(fake_server: FakeServer, token: str, tmp_path: Path) -> None:
    fake = build_org(fake_server)
    config = org_config(fake)
    source = AzureDevOpsSource(config.sources[0], config=config)
    assert await source.probe() == "2 projects reachable"
    ctx = FetchContext(since=NOW - 180 * DAY, until=NOW)
    fake_server.log.clear()
    estimate = await source.plan(ctx)
    planned_requests = len(fake_server.log)
    fake_server.log.clear()
    store = Store(tmp_path / "cache")
    summary = await sync(config, store, ScoreRequest.resolve(now=NOW))
    spent = summary.outcomes[0].stats.requests
    assert planned_requests < spent / 2  # the plan reads one page per listing
    assert abs(estimate.requests - spent) <= 0.2 * spent, (estimate.requests, spent)
    assert estimate.requests is not None and estimate.error is None
    # The first 100 runs cover 50 days, extrapolated to the 180 asked (the fake's history
    # is shorter, so the estimate errs high), plus Platform's 5.
    assert "~383 runs" in estimate.basis and "~3 pull requests" in estimate.basis

    # Through `scorecard sync --plan` after that sync: from the bookmarks on, little is new.
    from scorecard.sync import plan

    later = ScoreRequest.resolve(now=NOW + timedelta(hours=1))
    [again] = await plan(config, store, later)
    assert again.error is None and again.requests is not None
    assert "~0 pull requests" in again.basis and "~6 runs" in again.basis
    summary = await sync(config, store, later)
    spent = summary.outcomes[0].stats.requests
    assert spent == 11 and abs(again.requests - spent) <= 0.2 * spent  # 13 planned


def test_swagger_documents_every_parameter_the_source_sends() -> None:
    sent = {
        ("build", "/build/builds"): {
            "queryOrder",
            "statusFilter",
            "$top",
            "continuationToken",
            "buildIds",
        },
        ("git", "/git/repositories/{repositoryId}/pullrequests"): {
            "searchCriteria.status",
            "searchCriteria.targetRefName",
            "searchCriteria.queryTimeRangeType",
            "searchCriteria.minTime",
            "$top",
            "$skip",
        },
        ("git", "/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/commits"): {
            "$top",
            "continuationToken",
        },
        ("distributedTask", "/distributedtask/environments"): {"$top", "continuationToken"},
        (
            "git",
            "/git/repositories/{repositoryId}/pullRequests/{pullRequestId}"
            "/iterations/{iterationId}/changes",
        ): {"$compareTo", "$top", "$skip"},
        (
            "distributedTask",
            "/distributedtask/environments/{environmentId}/environmentdeploymentrecords",
        ): {"top", "continuationToken"},
    }
    for (spec_key, path), names in sent.items():
        spec = load_spec("azure-devops", SPECS[spec_key])
        params = spec["paths"][PREFIX + path]["get"]["parameters"]
        documented = {resolve(spec, p).get("name") for p in params}
        assert names <= documented, (path, names - documented)
        assert "api-version" in documented


async def test_changed_paths_for_path_change_classes(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    from dataclasses import replace

    from scorecard.config import ChangeClassConfig

    fake = build_org(fake_server)
    config = replace(
        org_config(fake), change_classes=(ChangeClassConfig(name="ai", paths=("prompts/**",)),)
    )
    store = Store(tmp_path / "cache")
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    changes = store.load()["changes"].set_index("id")
    assert list(changes.loc["Payments/payments-api/pullrequests/7", "paths"]) == [
        "src/app.py",
        "prompts/rank.txt",
        "prompts/old.txt",  # both sides of the rename, read a page at a time
    ]
    for spec_key, path, payload in fake.served:
        if path.endswith("/changes"):
            # Microsoft's Swagger types the generic Change<T>.item as a string, while the
            # service (and its documentation's examples) send a GitItem object: the rest
            # of the answer is checked, and the parser takes either.
            entries = [{**e, "item": e["item"]["path"]} for e in payload["changeEntries"]]
            payload = {**payload, "changeEntries": entries}
            assert records.iteration_paths(payload)  # the string form parses too
        check(spec_key, path, payload)
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(minutes=10)))
    assert not [r for r in fake_server.log if "iterations" in r.path]  # cached once merged
