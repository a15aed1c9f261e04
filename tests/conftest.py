import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Markers (registered in pyproject.toml). `make test-fast` runs `-m "not slow"`.
#   demo     uses a full demo warehouse build (the built_demo fixture; marked here, see below)
#   airflow  drives the Airflow DAGs (dag.test / airflow standalone)
#   browser  drives headless Chromium
#   spark    runs the dbt project on Spark (Java)
#   slow     anything above: more than a few seconds; every demo/airflow/browser/spark test is slow
SLOW_MARKERS = ("demo", "airflow", "browser", "spark")

# The builds of test warehouses run every data test but not the dbt unit tests: those need no data
# and give the same result on every warehouse; tests/dbt/test_dbt_unit.py runs each once (D-181).
NO_UNIT_TESTS = "resource_type:unit_test"


# The files that take longest, longest first (docs/benchmarks.md, "The test lanes, round 3"). With
# `-n 2 --dist loadfile --no-loadscope-reorder` (make test, make test-fast) the workers are handed
# work units in collection order: a whole file, or one test of a SPLIT_BY_TEST file. These start
# first, so that no worker is left alone with one of them at the end (D-182).
LONGEST_FIRST = (
    "tests/dbt/test_spark_cluster.py",  # builds the demo warehouse of seed 1 (built_demo) first ...
    "tests/dbt/test_warehouse_exactness.py",  # ... while the other worker builds seeds 2, 3, 4
    "tests/dbt/test_spark_parity.py",
    "tests/integration/test_airflow_pipeline.py",  # makes the airflow_backfilled home the next two copy
    "tests/dbt/test_dbt_incremental.py",
    "tests/integration/test_airflow_failures.py",
    "tests/browser/test_airflow_ui_browser.py",
    "tests/dbt/test_export_shapes.py",  # the fast lane's longest: five builds
    "tests/dbt/test_measurability.py",
    "tests/dbt/test_dbt_unit.py",
)
# Files whose tests share no module-scoped fixture worth keeping on one worker: each test is a
# work unit of its own (each exactness seed its own build, each export shape its own build).
SPLIT_BY_TEST = ("tests/dbt/test_warehouse_exactness.py", "tests/dbt/test_export_shapes.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile, but the tests of SPLIT_BY_TEST are handed out one by one."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LoadFileSplitScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            return nodeid if file in SPLIT_BY_TEST else file

    return LoadFileSplitScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """One rule instead of a mark on every test: a test that uses the built_demo fixture (directly or
    through another fixture) is a `demo` test, and demo, airflow, browser and spark tests are `slow`.
    Then the files of LONGEST_FIRST are moved to the front (a stable sort: the order inside a file,
    and of the other files, stays)."""
    for item in items:
        if "built_demo" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.demo)
        if any(item.get_closest_marker(m) for m in SLOW_MARKERS) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session", autouse=True)
def dbt_zygote(tmp_path_factory):
    """One warm dbt starter per test process (kefu/dbt_zygote.py, D-222): every dbt run of the session —
    the tests' own and those of the Airflow children they start, which inherit the environment — is a
    fork of a process that imported dbt once. KEFU_DBT_ZYGOTE= (empty) runs the session without it."""
    from kefu import dbt_zygote

    if dbt_zygote.ENV in os.environ:
        yield os.environ[dbt_zygote.ENV] or None
        return
    path = tmp_path_factory.getbasetemp() / "dbt_zygote.sock"
    proc = dbt_zygote.start(path)
    os.environ[dbt_zygote.ENV] = str(path)
    try:
        yield path
    finally:
        del os.environ[dbt_zygote.ENV]
        proc.terminate()
        proc.wait(timeout=30)


def _shared_tmp(tmp_path_factory) -> Path:
    """A folder every process of this test session sees: with pytest-xdist each worker has its own
    basetemp (…/pytest-N/popen-gwK) under one session folder; without xdist, the basetemp itself."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _once(shared: Path, name: str, make) -> Path:
    """shared/name, made by make(folder) once per test session: under pytest-xdist the first worker
    that asks makes it while holding a file lock, the others wait and reuse it; the marker
    shared/name.complete is written only after make() returned (a folder left half-made by a
    failure is made again)."""
    from filelock import FileLock

    out, marker = shared / name, shared / f"{name}.complete"
    with FileLock(str(shared / f"{name}.lock")):
        if not marker.exists():
            if out.exists():
                shutil.rmtree(out)
            out.mkdir(parents=True)
            make(out)
            marker.write_text("complete\n")
    return out


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """Factory: `kefu generate --preset demo` for (seed, months, faults) once per test session,
    shared by the xdist workers (docs/decisions.md D-180). generated(seed, months) returns the
    session's folder (landing/, expected/), which tests must not change; generated(seed, months,
    into=folder) copies its landing/ and expected/ to a folder of the test's own (ingest moves the
    files it loads) and returns that folder."""
    from generator.run import generate

    shared = _shared_tmp(tmp_path_factory)

    def make(seed: int, months: int, faults: bool = False, into: Path | None = None) -> Path:
        name = f"generated_seed{seed}_m{months}" + ("_faults" if faults else "")
        out = _once(
            shared,
            name,
            lambda out: generate(preset="demo", seed=seed, months=months, out=out, faults=faults, progress=False),
        )
        if into is None:
            return out
        for sub in ("landing", "expected"):
            shutil.copytree(out / sub, into / sub)
        return into

    return make


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory, generated):
    """Factory: the demo preset for a seed generated, loaded, built with dbt.

    Returns (warehouse file, answer key csv). Built once per test session and (seed, months), shared
    by the xdist workers (D-102). The exports are loaded as one bulk batch (`kefu ingest --bulk`,
    D-105: the same rows as night-by-night ingest, tests/integration/test_bulk_ingest.py), then one
    `dbt build` with every data test. Tests only read it (or copy it).
    """
    shared = _shared_tmp(tmp_path_factory)
    cache: dict[tuple[int, int], tuple[Path, Path]] = {}

    def build_into(out: Path, seed: int, months: int) -> None:
        from ingest import config
        from ingest.bulk import bulk_landing
        from kefu import build

        generated(seed, months, into=out)
        summary = bulk_landing(out / "landing", out / "kefu.duckdb", config.load(None, demo_key=True))
        assert summary.count("rejected") == 0, str(summary)
        build.build(out / "kefu.duckdb", target_path=out / "dbt_target", exclude=NO_UNIT_TESTS)

    def make(seed: int, months: int) -> tuple[Path, Path]:
        if (seed, months) not in cache:
            out = _once(shared, f"demo_seed{seed}_m{months}", lambda out: build_into(out, seed, months))
            cache[(seed, months)] = (out / "kefu.duckdb", out / "expected" / "kpi_expected.csv")
        return cache[(seed, months)]

    return make


BACKFILLED_THROUGH = "2026-01-29"  # the airflow_backfilled home: seed 1's January up to this date


@pytest.fixture(scope="session")
def airflow_backfilled(tmp_path_factory, generated):
    """Factory: a demo home whose history went through Airflow's backfill DAG, made once per test
    session (`_once`) and copied for each caller (D-210). The home holds seed 1's one month (the
    `generated` fixture), its Airflow home (SQLite, the writer pool) and one run of the backfill DAG
    up to BACKFILLED_THROUGH (one bulk batch, one build, the gates, publish); the last two days are
    still in landing/. Its Airflow home is home/airflow, where `kefu demo` leaves it and `kefu
    airflow-ui --home` looks. airflow_backfilled(into) copies the home to into/home and returns (kefu
    Home, the Airflow children's env, the backfill run's result)."""
    from kefu import airflow_runner
    from kefu.home import Home

    shared = _shared_tmp(tmp_path_factory)

    def env_of(folder: Path) -> dict[str, str]:
        env = airflow_runner.airflow_env(folder / "home", folder / "home" / "airflow", demo_key=True)
        env["KEFU_RETRIES"] = "0"
        return env

    def make(out: Path) -> None:
        generated(1, 1, into=out / "home")
        env = env_of(out)
        airflow_runner.init_airflow(env)
        (result,) = airflow_runner.run_in_child("backfill", [BACKFILLED_THROUGH], env)
        assert result["state"] == "success", result["log_tail"]
        (out / "backfill.json").write_text(json.dumps(result), encoding="utf-8")

    def copy(into: Path) -> tuple:
        made = _once(shared, "airflow_backfilled", make)
        shutil.copytree(made / "home", into / "home")
        # airflow.cfg names its home's absolute paths (the SQLite database, the logs): the copy's own
        cfg = into / "home" / "airflow" / "airflow.cfg"
        old, new = (str((f / "home" / "airflow").resolve()) for f in (made, into))
        cfg.write_text(cfg.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        result = json.loads((made / "backfill.json").read_text(encoding="utf-8"))
        return Home(into / "home"), env_of(into), result

    return copy


@pytest.fixture(scope="session")
def dbt_scratch(tmp_path_factory):
    """Factory for the small warehouses tests build with dbt (export shapes, score, the dbt unit
    tests): dbt_scratch() removes the previous one and returns (warehouse, dbt target folder), the
    same two paths every time in a worker (D-183; since D-217 any new warehouse and target folder
    start from the project's parse too, so the same paths only spare copying it). A warehouse made
    here lives until the next call (a module fixture may hold it for its module, whose tests a
    worker runs back to back), and the test must close its connections to it: DuckDB refuses a new
    file at a path the process still holds open."""
    folder = tmp_path_factory.mktemp("dbt_scratch")

    def fresh() -> tuple[Path, Path]:
        for left in folder.glob("kefu.duckdb*"):  # the file, its .wal, its spill folder
            shutil.rmtree(left) if left.is_dir() else left.unlink()
        return folder / "kefu.duckdb", folder / "dbt_target"

    return fresh


class Receiver:
    """A local HTTP receiver for notification tests (apprise json:// and form://): POSTs kept as (path, content type, parsed payload); a path containing /fail is answered 500."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ctype = self.headers.get("Content-Type", "")
                payload = (
                    json.loads(raw) if "json" in ctype else {k: v[0] for k, v in parse_qs(raw.decode("utf-8")).items()}
                )
                outer.posts.append((self.path, ctype, payload))
                self.send_response(500 if "/fail" in self.path else 200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def at(self, path: str) -> list[dict]:
        return [p for (pth, _, p) in self.posts if pth == path]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()
