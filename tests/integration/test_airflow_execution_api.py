"""The Task Execution API that dag.test() serves in its own process (kefu.airflow_runner, D-219):
only the Task SDK's own API version, so a child does not generate a router for every older one.
Run in a child process: the change is to Airflow's module state."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kefu import airflow_runner

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

PROBE = """
import json
from kefu import airflow_runner
from airflow.api_fastapi.execution_api import versions
from airflow.sdk.api.datamodels import _generated
out = {"sdk": _generated.API_VERSION, "served": [v.value for v in versions.bundle.versions]}
# an SDK older than the server's newest version: nothing changes
bundle, _generated.API_VERSION = versions.bundle, out["served"][1]
out["older_sdk_replaced"] = airflow_runner.serve_only_the_sdks_api_version()
out["older_sdk_kept_the_bundle"] = versions.bundle is bundle
# the installed SDK
_generated.API_VERSION = out["sdk"]
out["replaced"] = airflow_runner.serve_only_the_sdks_api_version()
import httpx
from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI
client = httpx.Client(transport=InProcessExecutionAPI().transport, base_url="http://in-process/")
out["status"] = {v: client.get("/health/ping", headers={"airflow-api-version": v}).status_code for v in out["served"]}
print("RESULT " + json.dumps(out))
"""


def test_the_in_process_api_serves_the_sdks_version_alone(tmp_path):
    env = airflow_runner.airflow_env(tmp_path / "home", tmp_path / "airflow")
    res = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    line = next((x for x in res.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, res.stdout[-2000:] + res.stderr[-4000:]
    out = json.loads(line[len("RESULT ") :])
    assert not out["older_sdk_replaced"] and out["older_sdk_kept_the_bundle"]
    assert out["replaced"] and len(out["served"]) > 1 and out["served"][0] == out["sdk"]
    assert out["status"][out["sdk"]] == 200
    assert all(code != 200 for v, code in out["status"].items() if v != out["sdk"]), out["status"]
