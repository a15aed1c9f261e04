"""Who may see what (kefu/access.py, decisions D-95): the roles file, each role's rows of every
relation the dashboard reads (a hand-written warehouse, expected rows written out by hand), the
access log, and `kefu dashboard`'s safe defaults. The signed-in browser test: test_dashboard_login.py."""

import json
import os
import stat

import duckdb
import pytest

from kefu import access as acl
from kefu.cli import main

HEAD = acl.Access("li@example.com", "district_head", districts=("D01",))
TECH = acl.Access("w1@example.com", "technician", technician="W1")
MANAGER = acl.Access("boss@example.com", "manager")

# D01 has technician W1 and hall H1; D02 has W2 and H2. W3 moved from D02 to D01.
TABLES = """
create schema marts; create schema staging; create schema rulebook;
create table marts.kpi_rule_results as select * from (values
  ('T9', 'company', 'ALL'), ('T9', 'district', 'D01'), ('T9', 'district', 'D02'),
  ('T9', 'technician', 'W1'), ('T9', 'technician', 'W2'), ('T9', 'technician', 'W3'),
  ('H1', 'queue', 'vip'), ('S1', 'brand_group', 'gd'), ('P1', 'tier_group', 'vip'),
  ('B1', 'hall', 'H1'), ('B1', 'hall', 'H2')) t(measure_id, grain, unit_id);
create table marts.kpi_contact_policy_monthly as select * from marts.kpi_rule_results;
create table marts.dim_unit as select distinct grain, unit_id from marts.kpi_rule_results;
create table marts.dim_technician as select * from (values
  ('W1', 'D01'), ('W2', 'D02'), ('W3', 'D02'), ('W3', 'D01')) t(technician_id, district_id);
create table marts.dim_district as select * from (values ('D01', '城东', 'HA'), ('D02', '城西', 'HB')) t(district_id, district_name, head_id);
create table marts.kpi_district_monthly as select * from marts.dim_district;
create table marts.kpi_district_yearly as select * from marts.dim_district;
create table marts.fct_notices as select * from marts.dim_district;
create table marts.fct_surveys as select * from marts.dim_district;
create table marts.kpi_technician_monthly as select distinct technician_id from marts.dim_technician;
create table marts.fct_ticket_sla as select * from (values
  ('K1', 'D01', 'W1'), ('K2', 'D02', 'W2'), ('K3', 'D01', null), ('K4', 'D02', 'W1')) t(ticket_id, district_id, technician_id);
create table marts.rpt_early_warning as select * from marts.fct_ticket_sla;
create table marts.kpi_hotline_coverage_hourly as select 'vip' as queue;
create table staging.stg_hall_visits as select * from (values ('H1', 'D01'), ('H2', 'D02')) t(hall_id, district_id);
create table marts.dim_month as select '2026-01' as period_month;
create table rulebook.rulebook_measures as select 'T9' as measure_id;
create table rulebook.rulebook_tiers as select 'vip' as tier;
create table marts.kpi_rule_measurability as select 'T1' as measure_id, 'district' as grain;
create table marts.data_coverage as select 'tickets' as entity, 'ticket_system' as source_system;
create table marts.data_coverage_rules as select 'T1' as measure_id, 'tickets' as entity;
create table rulebook.contract_entities as select 'tickets' as entity;
create table marts.kpi_score_monthly as select * from (values
  ('district', 'D01'), ('district', 'D02'), ('technician', 'W1'), ('technician', 'W2'), ('technician', 'W3'),
  ('district_head', 'HA'), ('district_head', 'HB')) t(grain, unit_id);
create table marts.kpi_score_lines as select * from marts.kpi_score_monthly;
create table marts.kpi_score_yearly as select * from marts.kpi_score_monthly;
create table rulebook.rulebook_score_measures as select 'T1' as measure_id;
create table rulebook.rulebook_score_settings as select 100.0 as base;
"""

# relation -> the key column(s) shown, and the rows each role sees (written out by hand)
EXPECTED = {
    "marts.kpi_rule_results": (
        "grain || ':' || unit_id",
        {
            HEAD: {
                "company:ALL",
                "district:D01",
                "technician:W1",
                "technician:W3",
                "queue:vip",
                "brand_group:gd",
                "tier_group:vip",
                "hall:H1",
            },
            TECH: {"technician:W1"},
        },
    ),
    "marts.dim_technician": ("technician_id || ':' || district_id", {HEAD: {"W1:D01", "W3:D01"}, TECH: {"W1:D01"}}),
    "marts.dim_district": ("district_id", {HEAD: {"D01"}, TECH: {"D01"}}),
    "marts.kpi_district_monthly": ("district_id", {HEAD: {"D01"}, TECH: set()}),
    "marts.kpi_district_yearly": ("district_id", {HEAD: {"D01"}, TECH: set()}),
    "marts.fct_notices": ("district_id", {HEAD: {"D01"}, TECH: set()}),
    "marts.fct_surveys": ("district_id", {HEAD: {"D01"}, TECH: set()}),
    "marts.kpi_technician_monthly": ("technician_id", {HEAD: {"W1", "W3"}, TECH: {"W1"}}),
    # a ticket belongs to its district (head) and to its technician (technician): K4 is W1's in D02
    "marts.fct_ticket_sla": ("ticket_id", {HEAD: {"K1", "K3"}, TECH: {"K1", "K4"}}),
    "marts.rpt_early_warning": ("ticket_id", {HEAD: {"K1", "K3"}, TECH: {"K1", "K4"}}),
    "marts.kpi_hotline_coverage_hourly": ("queue", {HEAD: {"vip"}, TECH: set()}),
    "staging.stg_hall_visits": ("hall_id", {HEAD: {"H1"}, TECH: set()}),
    "marts.dim_month": ("period_month", {HEAD: {"2026-01"}, TECH: {"2026-01"}}),
    "rulebook.rulebook_measures": ("measure_id", {HEAD: {"T9"}, TECH: {"T9"}}),
    "rulebook.rulebook_tiers": ("tier", {HEAD: {"vip"}, TECH: {"vip"}}),
    # which rules the exports can measure: per measure, grain and source, no unit's figures (every role)
    "marts.kpi_rule_measurability": ("measure_id", {HEAD: {"T1"}, TECH: {"T1"}}),
    "marts.data_coverage": ("source_system", {HEAD: {"ticket_system"}, TECH: {"ticket_system"}}),
    "marts.data_coverage_rules": ("measure_id", {HEAD: {"T1"}, TECH: {"T1"}}),
    "rulebook.contract_entities": ("entity", {HEAD: {"tickets"}, TECH: {"tickets"}}),
}
# the score: a head sees their districts, their technicians and their own head score (HA heads D01)
for _score in ("marts.kpi_score_monthly", "marts.kpi_score_lines", "marts.kpi_score_yearly"):
    EXPECTED[_score] = (
        "grain || ':' || unit_id",
        {HEAD: {"district:D01", "technician:W1", "technician:W3", "district_head:HA"}, TECH: {"technician:W1"}},
    )
EXPECTED["rulebook.rulebook_score_measures"] = ("measure_id", {HEAD: {"T1"}, TECH: {"T1"}})
EXPECTED["rulebook.rulebook_score_settings"] = ("cast(base as varchar)", {HEAD: {"100.0"}, TECH: {"100.0"}})
EXPECTED["marts.kpi_contact_policy_monthly"] = ("grain || ':' || unit_id", EXPECTED["marts.kpi_rule_results"][1])
# the units' names are scoped like the units' figures (D-152)
EXPECTED["marts.dim_unit"] = ("grain || ':' || unit_id", EXPECTED["marts.kpi_rule_results"][1])


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute(TABLES)
    yield c
    c.close()


def rows(con, sql, access) -> set[str]:
    return {r[0] for r in con.execute(acl.scoped_sql(sql, access)).fetchall()}


def test_every_relation_the_dashboard_reads_has_a_scope_and_is_tested():
    assert set(EXPECTED) == set(acl.RELATIONS)


@pytest.mark.parametrize("relation", sorted(EXPECTED))
@pytest.mark.parametrize("who", ["head", "tech", "manager"])
def test_each_role_sees_exactly_its_rows_of_each_relation(con, relation, who):
    column, expected = EXPECTED[relation]
    access = {"head": HEAD, "tech": TECH, "manager": MANAGER}[who]
    everything = {r[0] for r in con.execute(f"select {column} from {relation}").fetchall()}
    want = everything if access is MANAGER else expected[access]
    assert rows(con, f"select {column} from {relation}", access) == want
    # with an alias, in a join, the same rows
    assert rows(con, f"select {column.replace('unit_id', 'x.unit_id')} from {relation} as x", access) == want


def test_a_district_head_score_is_shown_only_to_who_may_see_all_its_districts():
    """A head's score averages their districts (D-138): a viewer of D01 alone does not see the score of
    a head of D01 and D02, a viewer of both does."""
    c = duckdb.connect()
    c.execute(
        "create schema marts; "
        "create table marts.dim_district as select * from (values ('D01', 'HA'), ('D02', 'HA'), ('D03', null)) "
        "t(district_id, head_id); create table marts.dim_technician as select 'W1' as technician_id, 'D01' as district_id; "
        "create table marts.kpi_score_monthly as select 'district_head' as grain, 'HA' as unit_id"
    )
    sql = "select unit_id from marts.kpi_score_monthly"
    assert rows(c, sql, acl.Access("a@example.com", "district_head", districts=("D01",))) == set()
    assert rows(c, sql, acl.Access("b@example.com", "district_head", districts=("D01", "D02"))) == {"HA"}
    c.close()


def test_a_district_outside_the_scope_cannot_be_asked_for(con):
    """What a URL parameter or widget state would put into the query's parameters: no rows."""
    sql = acl.scoped_sql("select unit_id from marts.kpi_rule_results where grain = 'district' and unit_id = ?", HEAD)
    assert con.execute(sql, ["D02"]).fetchall() == []
    sql = acl.scoped_sql("select ticket_id from marts.fct_ticket_sla where district_id = ?", HEAD)
    assert con.execute(sql, ["D02"]).fetchall() == []


def test_a_join_of_two_scoped_relations_keeps_both_scopes(con):
    sql = """select r.unit_id, t.district_id from marts.kpi_rule_results as r
             join marts.dim_technician as t on t.technician_id = r.unit_id where r.grain = 'technician'"""
    assert set(con.execute(acl.scoped_sql(sql, HEAD)).fetchall()) == {("W1", "D01"), ("W3", "D01")}


def test_a_relation_without_a_scope_is_refused_not_shown():
    with pytest.raises(acl.ScopeError, match=r"marts\.fct_callbacks"):
        acl.scoped_sql("select * from marts.fct_callbacks", HEAD)
    with pytest.raises(acl.ScopeError):
        acl.scoped_sql("select * from marts.fct_callbacks", MANAGER)  # for every role: nothing unscoped slips in


def test_the_roles_file_maps_email_sub_and_groups(tmp_path):
    path = tmp_path / "roles.yml"
    path.write_text(
        """
users:
  Li@Example.com: {role: district_head, districts: [D01, D03]}
  sub-w1: {role: technician, technician: W1}
groups:
  kefu-audit: {role: auditor}
  kefu-managers: {role: manager}
""",
        encoding="utf-8",
    )
    roles = acl.load_roles(path)
    head = acl.resolve(roles, {"email": "li@example.com", "sub": "x"})
    assert (head.role, head.districts) == ("district_head", ("D01", "D03"))
    tech = acl.resolve(roles, {"sub": "sub-w1"})
    assert (tech.role, tech.technician) == ("technician", "W1")
    assert (
        acl.resolve(roles, {"email": "a@example.com", "groups": ["x", "kefu-managers", "kefu-audit"]}).role == "auditor"
    )
    assert acl.resolve(roles, {"email": "stranger@example.com", "sub": "s", "groups": ["other"]}) is None


@pytest.mark.parametrize(
    "text, words",
    [
        ("users:\n  a@x.cn: {role: boss}\n", "role 'boss' is not one of"),
        ("users:\n  a@x.cn: {role: district_head}\n", "needs `districts"),
        ("users:\n  a@x.cn: {role: technician}\n", "needs `technician"),
        ("users:\n  a@x.cn: {role: manager, districts: [D01]}\n", "sees everything"),
        ("people: {}\n", "top-level keys"),
    ],
)
def test_a_bad_roles_file_names_the_file_and_entry(tmp_path, text, words):
    path = tmp_path / "roles.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(acl.RolesError, match=words) as exc:
        acl.load_roles(path)
    assert str(path) in str(exc.value)


def test_the_access_log_appends_private_lines(tmp_path):
    log = tmp_path / "logs" / "access_log.jsonl"
    acl.log_event("sign_in", HEAD, page="总览", path=log)
    acl.log_event("download", HEAD, page="总览", rows=7, detail="overview_2026-03.csv", path=log)
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert [(x["event"], x["user"], x["rows"]) for x in lines] == [
        ("sign_in", "li@example.com", None),
        ("download", "li@example.com", 7),
    ]
    assert lines[1]["scope"] == "片区负责人 · D01" and lines[1]["page"] == "总览"
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600 and stat.S_IMODE(os.stat(log.parent).st_mode) == 0o700


def test_dashboard_without_sign_in_refuses_another_address(tmp_path, capsys, monkeypatch):
    published = tmp_path / "published" / "kefu.duckdb"
    published.parent.mkdir()
    duckdb.connect(str(published)).close()
    monkeypatch.setenv("KEFU_HOME", str(tmp_path))
    assert main(["dashboard", "--warehouse", str(published), "--bind", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "--insecure-no-login" in err and "0.0.0.0" in err


def test_dashboard_command_listens_on_loopback_by_default_and_reads_the_auth_file(tmp_path):
    from dashboards.cli import AuthFileError, streamlit_command

    cmd, env = streamlit_command(tmp_path / "kefu.duckdb", 8501)
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1" and "KEFU_ROLES" not in env
    auth = tmp_path / "dashboard_auth.toml"
    auth.write_text(
        '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\ncookie_secret = "x"\n'
        'client_id = "kefu"\nserver_metadata_url = "http://idp/.well-known/openid-configuration"\n'
        '[kefu]\nroles_file = "roles.yml"\n',
        encoding="utf-8",
    )
    with pytest.raises(AuthFileError, match=r"roles\.yml"):
        streamlit_command(tmp_path / "kefu.duckdb", 8501, "0.0.0.0", auth)
    (tmp_path / "roles.yml").write_text("users: {}\n", encoding="utf-8")
    cmd, env = streamlit_command(tmp_path / "kefu.duckdb", 8501, "0.0.0.0", auth)
    assert cmd[cmd.index("--secrets.files") + 1] == str(auth) and env["KEFU_ROLES"] == str(tmp_path / "roles.yml")
