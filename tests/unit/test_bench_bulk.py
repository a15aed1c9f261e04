"""kefu bench's bulk figure: the bulk batch's rows per CPU s beside the floor's over the same exports."""

from benchmarks.bench_pipeline import bulk_figures


def test_bulk_figures_put_the_batch_beside_the_floor():
    # 1,000 export rows: the batch took 4 CPU s (250 rows per CPU s), the floor 2 CPU s (500)
    f = bulk_figures({"bulk ingest": {"rows": 1000, "cpu_seconds": 4.0}, "floor": {"cpu_seconds": 2.0}})
    assert f == {
        "bulk_all_rows": 1000,
        "bulk_all_rows_per_cpu_s": 250.0,
        "floor_rows_per_cpu_s": 500.0,
        "bulk_over_floor_rows_per_cpu_s": 0.5,
    }


def test_a_result_from_before_the_bulk_step_has_no_bulk_figures():
    assert bulk_figures({"floor": {"cpu_seconds": 2.0}}) == {}
