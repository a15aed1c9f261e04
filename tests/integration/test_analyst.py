"""Analyst access: `kefu sql` (read-only), the dbt docs site, the analyst guide, no clear personal data.

Every ```sql block of the guide already runs on the demo in tests/dbt/test_warehouse_demo.py
(test_every_query_of_the_analyst_guide_runs); here: that its March T9 query returns exactly
the tickets behind every red cell.
"""

import csv
import hashlib
import io
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import duckdb
import pytest

from kefu import analyst
from kefu.cli import main

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "analyst-guide.md"
SEED, MONTHS = 1, 3

# clear personal data the way exports write it: a mobile or landline number, an 18-character
# ID number; not preceded by a digit or '.', so neither longer digit strings nor decimals count
CLEAR = [
    r"(^|[^0-9.])1[3-9][0-9]{9}([^0-9]|$)",
    r"(^|[^0-9.])0[1-9][0-9]{1,2}-?[2-9][0-9]{6,7}([^0-9]|$)",
    r"(^|[^0-9.])[1-9][0-9]{16}[0-9Xx]([^0-9]|$)",
]


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def clear_pii(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> dict[str, int]:
    """Column -> rows holding what looks like clear personal data, over every column of every table
    and view in SCHEMAS (every type, cast to text). A *_hash column must hold 64-hex-digit digests only."""
    tables: dict[str, list[str]] = {}
    for schema, table, column in con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where list_contains(?, table_schema) order by all",
        [list(schemas)],
    ).fetchall():
        tables.setdefault(f"{quote(schema)}.{quote(table)}", []).append(column)
    found = {}
    for table, cols in tables.items():
        conditions = []
        for c in cols:
            v = f"cast({quote(c)} as varchar)"
            conditions.append(
                f"not regexp_full_match({v}, '[0-9a-f]{{64}}')"
                if c.endswith("_hash")
                else " or ".join(f"regexp_matches({v}, '{p}')" for p in CLEAR)
            )
        counts = con.execute(
            "select " + ", ".join(f"count(*) filter (where {w})" for w in conditions) + f" from {table}"
        ).fetchone()
        found |= {f"{table}.{c}": n for c, n in zip(cols, counts) if n}
    return found


def guide_query(heading_words: tuple[str, ...]) -> str:
    """The ```sql block under the guide's ### heading that holds every one of HEADING_WORDS."""
    sections = re.findall(r"^### (.*?)\n(.*?)(?=^### |\Z)", GUIDE.read_text(encoding="utf-8"), re.S | re.M)
    body = next(b for h, b in sections if all(w in h for w in heading_words))
    return re.search(r"```sql\n(.*?)```", body, re.S).group(1)


@pytest.fixture(scope="module")
def demo(built_demo):
    warehouse, _ = built_demo(SEED, MONTHS)
    return warehouse


@pytest.fixture(scope="module")
def con(demo):
    c = duckdb.connect(str(demo), read_only=True)
    yield c
    c.close()


# --- kefu sql -------------------------------------------------------------------------------------


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "published" / "kefu.duckdb"
    path.parent.mkdir()
    c = duckdb.connect(str(path))
    c.execute(
        "create schema marts; create table marts.kpi_rule_results as "
        "select 'T9' as measure_id, 'D02' as unit_id, 0.97::double as value, false as passed"
    )
    c.close()
    return path


@pytest.mark.parametrize(
    "write",
    [
        "insert into marts.kpi_rule_results values ('T1', 'D01', 1.0, true)",
        "update marts.kpi_rule_results set passed = true",
        "delete from marts.kpi_rule_results",
        "create table marts.mine as select 1 as x",
        "drop table marts.kpi_rule_results",
    ],
)
def test_sql_refuses_every_write_and_leaves_the_file_as_it_was(small, capsys, write):
    before = sha256(small)
    assert main(["sql", "--warehouse", str(small), write]) == 1
    err = capsys.readouterr().err
    assert "只读" in err and "read-only" in err
    assert sha256(small) == before
    with duckdb.connect(str(small), read_only=True) as c:
        assert c.execute("select * from marts.kpi_rule_results").fetchall() == [("T9", "D02", 0.97, False)]


def test_the_sql_shell_refuses_writes_and_goes_on(small, capsys, monkeypatch):
    before = sha256(small)
    monkeypatch.setattr(
        sys,
        "stdin",
        io.StringIO("drop table marts.kpi_rule_results;\nselect unit_id,\n  value from marts.kpi_rule_results;\n"),
    )
    monkeypatch.setenv("KEFU_PUBLISHED", str(small))
    assert main(["sql"]) == 1
    out, err = capsys.readouterr()
    assert "只读" in err and "DROP" in err
    assert "D02" in out and "0.97" in out
    assert sha256(small) == before


def test_sql_without_a_published_warehouse_says_where_it_looked(tmp_path, capsys):
    assert main(["sql", "--warehouse", str(tmp_path / "nothing.duckdb"), "select 1"]) == 2
    assert "nothing.duckdb" in capsys.readouterr().err


@pytest.mark.slow
def test_sql_prints_what_a_direct_query_returns(demo, con, capsys, monkeypatch):
    query = guide_query(("T9", "March"))
    cur = con.execute(query)
    header, direct = [d[0] for d in cur.description], cur.fetchall()
    assert direct

    assert main(["sql", "--warehouse", str(demo), "--csv", query]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == header
    assert rows[1:] == [["" if v is None else str(v) for v in r] for r in direct]

    monkeypatch.setenv("COLUMNS", "400")  # the table is as wide as the terminal: wide enough for every column
    assert main(["sql", "--warehouse", str(demo), "--max-rows", str(len(direct)), query]) == 0
    table = capsys.readouterr().out
    assert f"{len(direct)} rows" in table
    assert all(r[header.index("ticket_id")] in table for r in direct)


# --- the guide ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_guide_lists_exactly_the_tickets_of_every_red_t9_cell_in_march(con):
    rows = con.execute(guide_query(("T9", "March"))).fetchall()
    per_district: dict[str, int] = {}
    for r in rows:
        per_district[r[0]] = per_district.get(r[0], 0) + 1
    red = dict(
        con.execute(
            "select unit_id, denominator - numerator from marts.kpi_rule_results "
            "where measure_id = 'T9' and grain = 'district' and period_month = '2026-03' and not passed"
        ).fetchall()
    )
    assert red, "no district failed T9 in March on the demo"
    assert per_district == red


# --- no clear personal data -----------------------------------------------------------------------


def test_the_personal_data_scan_finds_clear_values_and_passes_masked_ones():
    c = duckdb.connect()
    c.execute("""create schema marts; create table marts.t as select * from (values
        ('138****1234', 'ab' || repeat('0', 62), '1101**********1234', 0.13812345678, 'GD20260101000041', '张*', 13812345678),
        ('致电13812345678', 'not a digest', '身份证110101199001011234', 1.0, '0571-88886666', '王*', 1)
        ) v(phone_masked, phone_hash, id_masked, rate, ticket_id, name_masked, n)""")
    assert clear_pii(c, ("marts",)) == {
        '"marts"."t".phone_masked': 1,
        '"marts"."t".phone_hash': 1,
        '"marts"."t".id_masked': 1,
        '"marts"."t".ticket_id': 1,
        '"marts"."t".n': 1,
    }


@pytest.mark.slow
def test_no_table_analysts_read_holds_a_clear_phone_or_id_number(con):
    schemas = ("marts", "intermediate", "staging")
    assert clear_pii(con, schemas) == {}
    masked = con.execute(
        "select count(*) from information_schema.columns where list_contains(?, table_schema) "
        "and column_name like '%\\_masked' escape '\\'",
        [list(schemas)],
    ).fetchone()[0]
    assert masked > 0, "the scan saw no masked column: is it looking at the right warehouse?"


# --- dbt docs -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_generate_docs_writes_one_page_from_a_copy_of_the_warehouse(demo, con, tmp_path):
    before = sha256(demo)
    index = analyst.generate_docs(demo, tmp_path / "dbt_docs")
    assert index == tmp_path / "dbt_docs" / "index.html"
    assert sha256(demo) == before and not demo.with_name(demo.name + ".wal").exists()
    html = index.read_text(encoding="utf-8")
    for (table,) in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
    ).fetchall():
        assert f"model.kefu.{table}" in html, table
    assert "kpi_rule_results" in html and "is_met" in html


def test_docs_serve_serves_the_site_with_one_command(tmp_path):
    (tmp_path / "index.html").write_text("<html>数据字典 kpi_rule_results</html>", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kefu.cli", "docs", "serve", "--dir", str(tmp_path), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = re.search(r"http://\S+/", proc.stdout.readline()).group(0)
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.read() == (tmp_path / "index.html").read_bytes()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_docs_serve_without_a_site_says_how_to_make_one(tmp_path, capsys):
    assert main(["docs", "serve", "--dir", str(tmp_path)]) == 2
    assert "kefu docs generate" in capsys.readouterr().err
