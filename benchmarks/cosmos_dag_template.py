"""A Cosmos DAG of the dbt project (one Airflow task per dbt node): the alternative that D-72
measured against the nightly's one `dbt build` task. Benchmark only; never in dags/.

benchmarks/bench_cosmos.py points a DagBag at this file with, in the environment:
    KEFU_WAREHOUSE            absolute path of the DuckDB warehouse (profiles.yml reads it)
    KEFU_COSMOS_LOAD_MODE     dbt_manifest | dbt_ls
    KEFU_COSMOS_MANIFEST      manifest.json (dbt_manifest mode)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pendulum
from cosmos import DbtDag, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, LoadMode

DBT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT = os.environ.get("KEFU_DBT_EXECUTABLE") or str(Path(sys.executable).with_name("dbt"))
LOAD_MODE = LoadMode(os.environ.get("KEFU_COSMOS_LOAD_MODE", "dbt_manifest"))

kefu_cosmos = DbtDag(
    dag_id="kefu_cosmos",
    project_config=ProjectConfig(
        dbt_project_path=DBT_DIR,
        manifest_path=os.environ.get("KEFU_COSMOS_MANIFEST") if LOAD_MODE == LoadMode.DBT_MANIFEST else None,
        env_vars={"KEFU_WAREHOUSE": os.environ["KEFU_WAREHOUSE"], "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    ),
    profile_config=ProfileConfig(
        profile_name="kefu", target_name="duckdb", profiles_yml_filepath=DBT_DIR / "profiles.yml"
    ),
    execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL, dbt_executable_path=DBT),
    render_config=RenderConfig(load_method=LOAD_MODE, dbt_executable_path=DBT),  # tests: AFTER_EACH
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 2, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
)
