"""The Task Execution API that dag.test() serves in its own process (kefu.airflow_runner, D-219):
only the Task SDK's own API version, so a child does not generate a router for every older one.
Each case runs in a child process: the change is to Airflow's module state."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kefu import airflow_runner

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

PROBE = """
import json, sys
from kefu import airflow_runner
from airflow.api_fastapi.execution_api import versions
from airflow.sdk.api.datamodels import _generated
if sys.argv[1] == "older-sdk":  # an SDK that speaks an older version than the server's newest
    _generated.API_VERSION = versions.bundle.versions[1].value
before = [v.value for v in versions.bundle.versions]
replaced = airflow_runner.serve_only_the_sdks_api_version()
import httpx
from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI
client = httpx.Client(transport=InProcessExecutionAPI().transport, base_url="http://in-process/")
status = {v: client.get("/health/ping", headers={"airflow-api-version": v}).status_code for v in before}
print("RESULT " + json.dumps({"replaced": replaced, "sdk": _generated.API_VERSION, "before": before, "status": status}))
"""


def probe(case: str, tmp_path) -> dict:
    env = airflow_runner.airflow_env(tmp_path / "home", tmp_path / "airflow")
    res = subprocess.run(
        [sys.executable, "-c", PROBE, case], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    line = next((x for x in res.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, res.stdout[-2000:] + res.stderr[-4000:]
    return json.loads(line[len("RESULT ") :])


def test_the_in_process_api_serves_the_sdks_version_alone(tmp_path):
    out = probe("as-installed", tmp_path)
    assert out["replaced"] and len(out["before"]) > 1 and out["before"][0] == out["sdk"]
    assert out["status"][out["sdk"]] == 200
    assert all(code != 200 for v, code in out["status"].items() if v != out["sdk"]), out["status"]


def test_an_sdk_older_than_the_server_keeps_every_version(tmp_path):
    out = probe("older-sdk", tmp_path)
    assert not out["replaced"]
    assert all(code == 200 for code in out["status"].values()), out["status"]
