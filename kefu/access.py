"""Who may see what (decisions D-95): the roles file, a signed-in user's scope, the SQL that scopes
every dashboard query, and the access log.

Roles file (YAML; its path is `roles_file` in the dashboard's auth file, docs/security.md):

    users:                       # by e-mail (case-insensitive) or OIDC subject (sub)
      wang.fang@example.com: {role: manager}
      li.qiang@example.com:  {role: district_head, districts: [D01, D02]}
      W00017:                {role: technician, technician: W00017}
    groups:                      # by the ID token's `groups` claim, first match in file order
      kefu-analysts: {role: analyst}

Roles and what they see:

- manager (部门经理): everything, and the access log page;
- analyst / auditor (分析员 / 审计): every result; ticket drill-downs show masked fields only
  (the dashboard's ticket tables carry no clear personal data at all);
- district_head (片区负责人): their districts, the technicians of their districts, the halls in
  them, and company-wide aggregates (company, hotline queue, brand and tier groups), which name
  no other district;
- technician (维修人员): their own scorecard and their own tickets, nothing else.

A user the file does not name is refused. Without an identity provider the dashboard listens
on the loopback address only and the one local user has the manager's scope (`LOCAL`).

Scoping. `scoped_sql(sql, access)` replaces every relation a dashboard query names
(`marts.x`, `staging.x`, `rulebook.x`) by a subquery of the rows the scope may see, chosen by
the relation's kind in RELATIONS. A relation missing from RELATIONS is an error: a new query
cannot bypass the scope by naming a new table. Filter choices, tables, charts, drill-downs and
downloads all read through it (dashboards/data.py), so URL parameters and widget state cannot
reach a district outside the scope.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROLES = {
    "manager": "部门经理",
    "analyst": "分析员",
    "auditor": "审计",
    "district_head": "片区负责人",
    "technician": "维修人员",
}
WIDE = ("manager", "analyst", "auditor")  # every result
COMPANY_GRAINS = ("company", "queue", "brand_group", "tier_group")  # aggregates naming no district


class RolesError(ValueError):
    """The roles file cannot be used (the message names the file, the entry and what was expected)."""


class ScopeError(RuntimeError):
    """A query names a relation whose scope is not defined: refused rather than shown unscoped."""


@dataclass(frozen=True)
class Access:
    user: str
    role: str
    districts: tuple[str, ...] | None = None  # district_head
    technician: str | None = None  # technician

    @property
    def wide(self) -> bool:
        return self.role in WIDE

    @property
    def label(self) -> str:
        """The scope in words, for the page and the access log."""
        if self.role == "district_head":
            return f"{ROLES[self.role]} · {', '.join(self.districts or ())}"
        if self.role == "technician":
            return f"{ROLES[self.role]} · {self.technician}"
        return f"{ROLES[self.role]} · 全部 (all)"


LOCAL = Access("local (127.0.0.1)", "manager")


# ------------------------------------------------------------------ the roles file


@dataclass(frozen=True)
class Roles:
    users: dict[str, Access]
    groups: list[tuple[str, Access]]


def _entry(path: Path, section: str, key: str, spec) -> Access:
    where = f"{path}: {section}.{key}"
    if not isinstance(spec, Mapping):
        raise RolesError(f"{where}: expected a mapping like {{role: manager}}, got {spec!r}")
    role = spec.get("role")
    if role not in ROLES:
        raise RolesError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
    districts = spec.get("districts")
    technician = spec.get("technician")
    if role == "district_head":
        if not isinstance(districts, list) or not districts or not all(isinstance(d, str) and d for d in districts):
            raise RolesError(f"{where}: a district_head needs `districts: [D01, …]` (a non-empty list of district ids)")
        return Access(str(key), role, districts=tuple(districts))
    if role == "technician":
        if not isinstance(technician, str) or not technician:
            raise RolesError(f"{where}: a technician needs `technician: <technician id>` (e.g. W00017)")
        return Access(str(key), role, technician=technician)
    if districts or technician:
        raise RolesError(f"{where}: role {role} sees everything; `districts` / `technician` would mean nothing")
    return Access(str(key), role)


def load_roles(path: str | Path) -> Roles:
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RolesError(f"cannot read the roles file {path}: {exc}") from None
    if not isinstance(spec, Mapping) or set(spec) - {"users", "groups"}:
        raise RolesError(f"{path}: expected top-level keys `users` and/or `groups` only")
    users = {str(k).lower(): _entry(path, "users", k, v) for k, v in (spec.get("users") or {}).items()}
    groups = [(str(k), _entry(path, "groups", k, v)) for k, v in (spec.get("groups") or {}).items()]
    return Roles(users, groups)


def resolve(roles: Roles, claims: Mapping) -> Access | None:
    """The scope of a signed-in user (the ID token's claims): by e-mail, else by sub, else by the
    first group of the roles file the user is in. None: not in the roles file (refused)."""
    name = str(claims.get("email") or claims.get("sub") or "")
    for key in (claims.get("email"), claims.get("sub")):
        if key and str(key).lower() in roles.users:
            found = roles.users[str(key).lower()]
            return Access(name, found.role, found.districts, found.technician)
    member = claims.get("groups") or []
    member = [member] if isinstance(member, str) else list(member)
    for group, found in roles.groups:
        if group in member:
            return Access(name, found.role, found.districts, found.technician)
    return None


# ------------------------------------------------------------------ scoping every query

# The kind of each relation the dashboard reads: which of its columns carries the scope.
RELATIONS = {
    "marts.kpi_rule_results": "unit",
    "marts.kpi_contact_policy_monthly": "unit",
    "marts.dim_district": "district_dim",
    "marts.kpi_district_monthly": "district",
    "marts.kpi_district_yearly": "district",
    "marts.fct_notices": "district",
    "marts.fct_surveys": "district",
    "marts.dim_technician": "technician_dim",
    "marts.dim_unit": "unit",
    "marts.kpi_technician_monthly": "technician",
    "marts.fct_ticket_sla": "ticket",
    "marts.rpt_early_warning": "ticket",
    "marts.kpi_hotline_coverage_hourly": "company",
    "staging.stg_hall_visits": "hall_visits",
    "marts.dim_month": "public",
    "rulebook.rulebook_measures": "public",
    "rulebook.rulebook_tiers": "public",
    # which rules the exports can measure, per measure x grain x month / entity x source: no unit's figures
    "marts.kpi_rule_measurability": "public",
    "marts.data_coverage": "public",
    "marts.data_coverage_rules": "public",
    "rulebook.contract_entities": "public",
    # the score 考核得分 (D-138): grain district / district_head / technician and unit_id
    "marts.kpi_score_monthly": "score",
    "marts.kpi_score_lines": "score",
    "marts.kpi_score_yearly": "score",
    "rulebook.rulebook_score_measures": "public",
    "rulebook.rulebook_score_settings": "public",
}
_RELATION = re.compile(r"\b((?:marts|staging|rulebook)\.[A-Za-z_][A-Za-z0-9_]*)\b(\s+as\s+)?", re.I)


def lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _in(column: str, values) -> str:
    values = list(values)
    return f"{column} in ({', '.join(lit(v) for v in values)})" if values else "false"


def _heads_within(districts) -> str:
    """The district heads every district of whom lies in DISTRICTS: a head's score averages their
    districts, so it is shown only to a viewer who may see all of them (D-138)."""
    return (
        f"(select head_id from marts.dim_district where head_id is not null group by head_id "
        f"having bool_and({_in('district_id', districts)}))"
    )


def predicate(access: Access, kind: str) -> str:
    """The SQL condition of the rows of a relation of KIND that ACCESS may see."""
    if access.wide or kind == "public":
        return "true"
    if access.role == "district_head":
        d = _in("district_id", access.districts)
        techs = f"(select technician_id from marts.dim_technician where {d})"
        halls = f"(select hall_id from staging.stg_hall_visits where {d})"
        return {
            "unit": f"(grain in ({', '.join(map(lit, COMPANY_GRAINS))}) "
            f"or (grain = 'district' and {_in('unit_id', access.districts)}) "
            f"or (grain = 'technician' and unit_id in {techs}) "
            f"or (grain = 'hall' and unit_id in {halls}))",
            "district": d,
            "district_dim": d,
            "technician_dim": d,
            "ticket": d,
            "hall_visits": d,
            "technician": f"technician_id in {techs}",
            "company": "true",
            "score": f"((grain = 'district' and {_in('unit_id', access.districts)}) "
            f"or (grain = 'technician' and unit_id in {techs}) "
            f"or (grain = 'district_head' and unit_id in {_heads_within(access.districts)}))",
        }[kind]
    if access.role == "technician":
        t = f"technician_id = {lit(access.technician)}"
        return {
            "unit": f"(grain = 'technician' and unit_id = {lit(access.technician)})",
            "district_dim": f"district_id in (select district_id from marts.dim_technician where {t})",
            "technician_dim": t,
            "technician": t,
            "ticket": t,
            "district": "false",
            "company": "false",
            "hall_visits": "false",
            "score": f"(grain = 'technician' and unit_id = {lit(access.technician)})",
        }[kind]
    raise ScopeError(f"role {access.role!r} has no scope")


def scoped_sql(sql: str, access: Access) -> str:
    """SQL with every relation replaced by the rows ACCESS may see (module docstring)."""

    def one(m: re.Match) -> str:
        name, alias = m.group(1), m.group(2)
        kind = RELATIONS.get(name.lower())
        if kind is None:
            raise ScopeError(
                f"{name}: no scope defined for this relation (kefu/access.py RELATIONS); "
                "the query is refused rather than shown unscoped / 未定义数据范围，拒绝查询"
            )
        if access.wide or kind == "public":
            return m.group(0)
        short = name.split(".", 1)[1]
        return f"(select * from {name} where {predicate(access, kind)}) " + (
            alias.lstrip() if alias else f"as {short} "
        )

    return _RELATION.sub(one, sql)


# ------------------------------------------------------------------ the access log

_LOG_LOCK = threading.Lock()


def access_log_path(published: str | Path | None = None) -> Path:
    """$KEFU_ACCESS_LOG, else logs/access_log.jsonl of the installation that holds the published file
    (outside the published warehouse: readers open that read-only)."""
    if os.environ.get("KEFU_ACCESS_LOG"):
        return Path(os.environ["KEFU_ACCESS_LOG"])
    from kefu.home import published_path

    return Path(published_path(published)).resolve().parent.parent / "logs" / "access_log.jsonl"


def log_event(
    event: str,
    access: Access | None,
    page: str | None = None,
    rows: int | None = None,
    user: str | None = None,
    detail: str | None = None,
    path: Path | None = None,
) -> dict:
    """Append one line (JSON) to the access log, private to the service user (0600 in a 0700 folder)."""
    from kefu.vault import private_dir

    path = Path(path or access_log_path())
    record = {
        "time": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "event": event,
        "user": user or (access.user if access else None),
        "role": access.role if access else None,
        "scope": access.label if access else None,
        "page": page,
        "rows": rows,
        "detail": detail,
    }
    private_dir(path.parent)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _LOG_LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    return record


def read_log(path: Path | None = None) -> list[dict]:
    path = Path(path or access_log_path())
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
