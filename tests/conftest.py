from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory):
    """Factory: generate the demo preset for a seed, ingest it, build the warehouse with dbt.

    Returns (warehouse file, answer key csv). Cached per (seed, months) within a test session.
    """
    from generator.run import generate
    from ingest import config
    from ingest.loader import ingest
    from kefu import build

    cache: dict[tuple[int, int], tuple[Path, Path]] = {}

    def make(seed: int, months: int) -> tuple[Path, Path]:
        if (seed, months) not in cache:
            out = tmp_path_factory.mktemp(f"demo_seed{seed}_m{months}")
            generate(preset="demo", seed=seed, months=months, out=out, faults=False, progress=False)
            warehouse = out / "kefu.duckdb"
            summary = ingest(landing=out / "landing", warehouse_file=warehouse,
                             cfg=config.load(None, demo_key=True), progress=False)
            assert summary.count("rejected") == 0, str(summary)
            build.build(warehouse, target_path=out / "dbt_target")
            cache[(seed, months)] = (warehouse, out / "expected" / "kpi_expected.csv")
        return cache[(seed, months)]

    return make
