"""The analyst shell and every reader are sandboxed (kefu/sandbox.py, decisions D-96): each escape
from the published warehouse is refused with a message in Chinese and English, and changes nothing."""

import hashlib
from pathlib import Path

import duckdb
import pytest

from kefu import sandbox
from kefu.cli import main

PHONE = "13912345678"


@pytest.fixture
def home(tmp_path):
    """A published warehouse beside an 'archive' export holding a clear phone number."""
    published = tmp_path / "published" / "kefu.duckdb"
    published.parent.mkdir()
    with duckdb.connect(str(published)) as c:
        c.execute(
            "create schema marts; create table marts.kpi_rule_results as select 'T9' as measure_id, 0.97::double as value"
        )
    archive = tmp_path / "archive" / "2026-01-01"
    archive.mkdir(parents=True)
    (archive / "客户资料_20260101.csv").write_text(f"客户编号,手机号\nC1,{PHONE}\n", encoding="utf-8")
    return tmp_path


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


ESCAPES = {
    "read_csv": ("select * from read_csv('{archive}')", "不能读写其他文件"),
    "read_csv_auto": ("select * from read_csv_auto('{archive}')", "不能读写其他文件"),
    "read_parquet": ("select * from read_parquet('{home}/x.parquet')", "不能读写其他文件"),
    "read_text": ("select content from read_text('/etc/passwd')", "不能读写其他文件"),
    "glob": ("select * from glob('{home}/archive/*/*')", "不能读写其他文件"),
    "copy_to": ("copy (select * from marts.kpi_rule_results) to '{home}/leak.csv'", "不能读写其他文件"),
    "export": ("export database '{home}/dump'", "不能读写其他文件"),
    "attach": ("attach '{home}/other.duckdb' as other", "ATTACH"),
    "install": ("install httpfs", "扩展"),
    "load": ("load httpfs", "扩展"),
    "set_access": ("set enable_external_access = true", "已锁定"),
    "reset_access": ("reset enable_external_access", "已锁定"),
    "unlock": ("set lock_configuration = false", "已锁定"),
    "allowed_dirs": ("set allowed_directories = ['/']", "已锁定"),
    "pragma": ("pragma enable_profiling = 'json'", "已锁定"),
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_kefu_sql_refuses_each_escape_and_says_why(home, capsys, name):
    statement, words = ESCAPES[name]
    archive = home / "archive" / "2026-01-01" / "客户资料_20260101.csv"
    before = digest(home)
    rc = main(
        ["sql", "--warehouse", str(home / "published" / "kefu.duckdb"), statement.format(archive=archive, home=home)]
    )
    out, err = capsys.readouterr()
    assert rc == 1
    assert words in err and any(w in err for w in ("refused", "locked")), err  # Chinese and English
    assert PHONE not in out and PHONE not in err
    assert digest(home) == before  # nothing written, nothing created


def test_the_lock_holds_after_a_refused_set(home):
    """A refused SET leaves the sandbox in place: the next read of another file is still refused."""
    con = sandbox.connect(home / "published" / "kefu.duckdb")
    with pytest.raises(duckdb.Error):
        con.execute("set enable_external_access = true")
    with pytest.raises(duckdb.Error) as exc:
        con.execute(f"select * from read_csv('{home}/archive/2026-01-01/客户资料_20260101.csv')")
    assert sandbox.refusal(exc.value) == sandbox.FILES
    assert con.execute("select value from marts.kpi_rule_results").fetchone() == (0.97,)  # the warehouse reads
    con.execute("create temp table mine as select 1 as x")  # scratch tables still work
    con.close()


def test_every_reader_goes_through_the_sandbox(home):
    """The dashboard (dashboards/data.py), kefu sql and the reports open the published file through
    kefu.sandbox. That no reader calls duckdb.connect itself (which would bypass it) is ruff's
    banned-api rule TID251 in pyproject.toml (`make lint`), which also sees `from duckdb import connect`."""
    from dashboards import data

    path = home / "published" / "kefu.duckdb"
    with pytest.raises(duckdb.Error) as exc:
        data.run_sql(path, f"select * from read_csv('{home}/archive/2026-01-01/客户资料_20260101.csv')")
    assert sandbox.refusal(exc.value) == sandbox.FILES
    data.close()


def test_a_sandboxed_reader_and_a_plain_read_only_connection_coexist_in_one_process(home):
    """DuckDB refuses a second connection to one file with another configuration; the sandbox's
    private instance shares nothing with the process's plain connections (the pipeline's, a test's)."""
    path = home / "published" / "kefu.duckdb"
    with duckdb.connect(str(path), read_only=True) as plain:
        con = sandbox.connect(path)
        cur = sandbox.cursor(con, path)
        assert cur.execute("select measure_id from marts.kpi_rule_results").fetchall() == [("T9",)]
        with pytest.raises(duckdb.Error):
            cur.execute(f"select * from read_csv('{home}/archive/2026-01-01/客户资料_20260101.csv')")
        # the plain connection keeps its own settings: the sandbox locked only its own instance
        assert plain.execute("select current_setting('enable_external_access')").fetchone() == (True,)
        con.close()
