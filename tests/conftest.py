import json
import os
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


def pytest_collection_modifyitems(config, items):
    """One rule instead of a mark on every test: a test that uses the built_demo fixture (directly or
    through another fixture) is a `demo` test, and demo, airflow, browser and spark tests are `slow`."""
    for item in items:
        if "built_demo" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.demo)
        if any(item.get_closest_marker(m) for m in SLOW_MARKERS) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def _shared_tmp(tmp_path_factory) -> Path:
    """A folder every process of this test session sees: with pytest-xdist each worker has its own
    basetemp (…/pytest-N/popen-gwK) under one session folder; without xdist, the basetemp itself."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory):
    """Factory: generate the demo preset for a seed, ingest it, build the warehouse with dbt.

    Returns (warehouse file, answer key csv). Built once per test session and (seed, months): under
    pytest-xdist the first worker that asks builds it while holding a file lock, the others wait and
    reuse it (a `built` marker is written only after a complete build). Tests only read it (or copy it).
    """
    from filelock import FileLock

    shared = _shared_tmp(tmp_path_factory)
    cache: dict[tuple[int, int], tuple[Path, Path]] = {}

    def build_into(out: Path, seed: int, months: int) -> None:
        from generator.run import generate
        from ingest import config
        from ingest.loader import ingest
        from kefu import build

        generate(preset="demo", seed=seed, months=months, out=out, faults=False, progress=False)
        summary = ingest(
            landing=out / "landing",
            warehouse_file=out / "kefu.duckdb",
            cfg=config.load(None, demo_key=True),
            progress=False,
        )
        assert summary.count("rejected") == 0, str(summary)
        build.build(out / "kefu.duckdb", target_path=out / "dbt_target")

    def make(seed: int, months: int) -> tuple[Path, Path]:
        if (seed, months) not in cache:
            out = shared / f"demo_seed{seed}_m{months}"
            marker = out / ".built"
            with FileLock(str(shared / f"demo_seed{seed}_m{months}.lock")):
                if not marker.exists():
                    if out.exists():  # a build that failed half-way in another worker
                        import shutil

                        shutil.rmtree(out)
                    out.mkdir(parents=True)
                    build_into(out, seed, months)
                    marker.write_text("complete\n")
            cache[(seed, months)] = (out / "kefu.duckdb", out / "expected" / "kpi_expected.csv")
        return cache[(seed, months)]

    return make


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
