"""``python -m lakehouse.wap``: one JSON document on stdout, valid for its schema, and
the exit code the pipeline branches on (0 ok, 1 refused, 3 error)."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from lakehouse.wap import open_versioning
from lakehouse.wap.cli import run
from tests.conftest import PROJECT_DIR, lake_env, process_env
from tests.wap_lake import main_ids, published_lake, reader_view, write_on_branch

SCHEMA = json.loads((PROJECT_DIR / "lakehouse" / "wap" / "wap_cli.schema.json").read_text())
BRANCH = "audit-zzc1i"


def valid(doc: dict) -> dict:
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    return doc


def wap_cli(env: dict[str, str], *args: str) -> tuple[int, dict, str]:
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse.wap", *args],
        cwd=PROJECT_DIR,
        env=process_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    doc = json.loads(done.stdout)  # exactly one document, nothing else on stdout
    assert doc["exit_code"] == done.returncode
    return done.returncode, valid(doc), done.stderr


@pytest.fixture
def lake(tmp_path):
    env = lake_env(tmp_path / "lake")
    settings = published_lake(env)
    return {"env": env, "settings": settings, "main": main_ids(settings)}


def test_begin_status_publish_as_the_pipeline_runs_them(lake):
    env, settings = lake["env"], lake["settings"]
    code, begun, _ = wap_cli(env, "begin", "--branch", BRANCH)
    assert (code, begun["outcome"], begun["backend"]) == (0, "ok", "table-refs")
    assert begun["base"] == {"ref": "main", "hash": None, "tables": lake["main"]}
    write_on_branch(settings, BRANCH)
    code, status, _ = wap_cli(env, "status", "--branch", BRANCH)
    assert code == 0 and status["published"]["tables"] == lake["main"]
    head = status["head"]["tables"]
    assert status["changed"] == sorted(head) and head != lake["main"]
    code, published, _ = wap_cli(env, "publish", "--branch", BRANCH, "--expect", json.dumps(head))
    assert (code, published["outcome"], published["method"]) == (0, "ok", "per-table")
    assert published["published"]["tables"] == head == main_ids(settings)
    assert [s["result"] for s in published["steps"]] == ["applied", "applied"]
    assert published["branch_removed"] and not open_versioning(settings).exists(BRANCH)


def test_a_publish_of_what_was_not_audited_is_refused_with_exit_1(lake):
    env, settings = lake["env"], lake["settings"]
    wap_cli(env, "begin", "--branch", BRANCH)
    write_on_branch(settings, BRANCH)
    before = reader_view(settings)
    judged = {**open_versioning(settings).head(BRANCH).tables, "event_stream": 42}
    code, doc, stderr = wap_cli(env, "publish", "--branch", BRANCH, "--expect", json.dumps(judged))
    assert (code, doc["outcome"]) == (1, "refused")
    assert [m["table"] for m in doc["mismatches"]] == ["event_stream"]
    assert "does not hold what was audited" in doc["reason"] and doc["reason"] in stderr
    assert main_ids(settings) == lake["main"] and reader_view(settings) == before


def test_discard_and_status_of_a_branch_that_is_gone(lake):
    env = lake["env"]
    wap_cli(env, "begin", "--branch", BRANCH)
    code, doc, _ = wap_cli(env, "begin", "--branch", BRANCH)
    assert (code, doc["outcome"]) == (1, "refused") and "exists already" in doc["reason"]
    code, doc, _ = wap_cli(env, "discard", "--branch", BRANCH)
    assert (code, doc["removed"], doc["dropped_tables"]) == (0, True, [])
    code, doc, _ = wap_cli(env, "status", "--branch", BRANCH)
    assert (code, doc["head"]) == (1, None) and "does not exist" in doc["reason"]
    assert main_ids(lake["settings"]) == lake["main"]


def test_an_interrupted_publish_is_resumed_by_the_command(lake, tmp_path):
    settings, state = lake["settings"], tmp_path / "publish-state.json"
    wap = open_versioning(settings)
    wap.begin(BRANCH)
    write_on_branch(settings, BRANCH)
    head = wap.head(BRANCH).tables

    def stop(step):
        raise KeyboardInterrupt  # the task is killed after the first table

    with pytest.raises(KeyboardInterrupt):
        wap.publish(BRANCH, head, state=state, on_step=stop)
    recorded = json.loads(state.read_text())["steps"]
    assert [(s["table"], s["result"]) for s in recorded] == [
        ("customer_dim", "applied"),
        ("event_stream", "pending"),
    ], "the state file says how far the publish got"
    expect = json.dumps(head)
    code, doc, _ = wap_cli(
        lake["env"], "publish", "--branch", BRANCH, "--expect", expect, "--state", str(state)
    )
    assert (code, doc["resumed"]) == (0, True)
    assert [(s["table"], s["result"]) for s in doc["steps"]] == [
        ("customer_dim", "already-applied"),
        ("event_stream", "applied"),
    ]
    assert main_ids(settings) == head


def test_rollback_through_the_command_and_back(lake):
    env, settings = lake["env"], lake["settings"]
    wap = open_versioning(settings)
    wap.begin(BRANCH)
    write_on_branch(settings, BRANCH)
    newer = wap.publish(BRANCH, wap.head(BRANCH).tables).published.tables
    code, plan, stderr = wap_cli(env, "plan-rollback", "--to", json.dumps(lake["main"]))
    assert code == 0 and main_ids(settings) == newer, "a plan moves nothing"
    assert {c["table"]: c["action"] for c in plan["changes"]} == {
        "customer_dim": "rollback",
        "event_stream": "rollback",
    }
    assert plan["text"] in stderr
    code, back, _ = wap_cli(env, "rollback", "--to", json.dumps(lake["main"]))
    assert (code, back["moved_from"]) == (0, newer)
    assert main_ids(settings) == lake["main"] == back["published"]["tables"]
    code, forward, _ = wap_cli(env, "rollback", "--to", json.dumps(back["moved_from"]))
    assert code == 0 and forward["published"]["tables"] == main_ids(settings) == newer


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required: command"),
        (["publish", "--branch", BRANCH], "required: --expect"),
        (["publish", "--branch", BRANCH, "--expect", "{"], "not JSON"),
        (["publish", "--branch", BRANCH, "--expect", '{"t": "1"}'], "is not a snapshot id"),
        (["publish", "--branch", BRANCH, "--expect", '{"t": true}'], "is not a snapshot id"),
        (["publish", "--branch", BRANCH, "--expect", "[]"], "non-empty object"),
        (["begin", "--branch", "main"], "not main"),
        (["begin", "--branch", "-x"], "expected one argument"),
        (["begin", "--branch", "a b"], "is not allowed"),
        (["rollback", "--to", '{"t": 1}', "--allow-schema-change"], "expected at least one"),
    ],
)
def test_a_refused_command_line_is_an_error_document(argv, message, tmp_path):
    doc = valid(run(argv, lake_env(tmp_path)))
    assert (doc["outcome"], doc["exit_code"]) == ("error", 3)
    assert message in doc["reason"]


def test_a_bad_configuration_is_an_error_document(tmp_path):
    env = lake_env(tmp_path, LAKEHOUSE_VERSIONING="git")
    doc = valid(run(["status", "--branch", BRANCH], env))
    assert doc["exit_code"] == 3 and "LAKEHOUSE_VERSIONING" in doc["reason"]
    env = lake_env(tmp_path, LAKEHOUSE_VERSIONING="nessie")
    doc = valid(run(["status", "--branch", BRANCH], env))
    assert doc["exit_code"] == 3 and "SQL catalog" in doc["reason"]


def test_the_schema_is_strict(tmp_path):
    """A document with a field the schema does not name, or a wrong exit code, is invalid."""
    doc = valid(run(["status", "--branch", BRANCH], lake_env(tmp_path)))
    with pytest.raises(jsonschema.ValidationError):
        valid({**doc, "surprise": 1})
    with pytest.raises(jsonschema.ValidationError):
        valid({**doc, "exit_code": 0})
    with pytest.raises(jsonschema.ValidationError):
        valid({**doc, "command": "publish"})  # publish's fields are missing
