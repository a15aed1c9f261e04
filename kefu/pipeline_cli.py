"""`kefu nightly | monthly | rebuild | demo | airflow-ui`: the pipeline from the command line.

`nightly`, `monthly` and `rebuild` run the same functions as the Airflow tasks (kefu/pipeline/) in
this process; `demo` runs the real DAGs through Airflow (`dag.test()`, SQLite metadata in a private
AIRFLOW_HOME) over every demo day; `airflow-ui` starts `airflow standalone` on an installation.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from kefu.home import Home

DEMO_MARKER = ".kefu-demo"


def _home(args) -> Home:
    return Home.from_env(args.home)


def _cmd_nightly(args) -> int:
    from kefu import pipeline

    home = _home(args)
    try:
        rep = pipeline.night(
            home,
            date.fromisoformat(args.date),
            demo_key=args.demo_key,
            config=Path(args.config) if args.config else None,
        )
    except pipeline.PipelineError as exc:
        print(f"kefu nightly: {exc}", file=sys.stderr)
        return 1
    text = rep.text()
    print(text)
    pipeline.write_run_log(home, text, args.date, rep.run_id)
    return 0


def _cmd_monthly(args) -> int:
    import tempfile

    from kefu import pipeline

    home = _home(args)
    try:
        with tempfile.TemporaryDirectory(dir=home.root, prefix=".month.") as tmp:
            from kefu import assessment_flow  # draft → sign-off → final, as the DAG (issue 21)

            src = pipeline.prepare_month(home, args.month, Path(tmp))
            info = assessment_flow.draft(home, src, args.month)
            if assessment_flow.signed_off(home, args.month):
                files = assessment_flow.finalize(home, src, args.month, info)["files"]
            else:
                files = assessment_flow.draft_reports(home, src, args.month, info)
    except pipeline.PipelineError as exc:
        print(f"kefu monthly: {exc}", file=sys.stderr)
        return 1
    print(
        f"月度考核 {args.month} closed as of {info['as_of_date']}: {home.assessment_dir(args.month)} — "
        + (
            "final, frozen"
            if info.get("frozen")
            else "final"
            if assessment_flow.signed_off(home, args.month)
            else "draft: appeals until the window closes, then `kefu assessment sign`, then `kefu monthly` again"
        )
    )
    for f in files:
        print(f"  {f}")
    return 0


def _cmd_rebuild(args) -> int:
    from kefu import pipeline

    home = _home(args)
    try:
        rep = pipeline.rebuild(home, demo_key=args.demo_key, config=Path(args.config) if args.config else None)
    except pipeline.PipelineError as exc:
        print(f"kefu rebuild: {exc}", file=sys.stderr)
        return 1
    print(rep.text())
    return 0


def _months(days: list[date]) -> list[str]:
    """The months a demo closes: every month whose last day is among the demo days."""
    from kefu.pipeline import month_bounds

    present = {d.isoformat() for d in days}
    return sorted({d.strftime("%Y-%m") for d in days if month_bounds(d.strftime("%Y-%m"))[1].isoformat() in present})


DEMO_NIGHTS = 3  # the demo's last days go through `nightly`; the history before them through `backfill`


def run_demo(
    out: Path,
    seed: int = 1,
    months: int | None = None,
    days: int | None = None,
    progress: bool = True,
    nights: int = DEMO_NIGHTS,
) -> dict:
    """generate → airflow db migrate → dag.test(backfill) of the history up to the last `nights` days
    (one bulk batch, one build) → dag.test(nightly) per remaining day → dag.test(monthly_assessment)
    per month → compare the published kpi_rule_results with the answer key. Returns what it did."""
    from generator.run import generate
    from kefu import airflow_runner, exactness, pipeline

    out = out.resolve()
    if out.exists():
        if not (out / DEMO_MARKER).exists():
            raise SystemExit(f"kefu demo: {out} exists and is not a demo folder; choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / DEMO_MARKER).write_text("written by kefu demo; deleted by the next one\n")
    t0 = time.monotonic()
    env = airflow_runner.airflow_env(out, out / "airflow", demo_key=True)
    # `airflow db migrate` and the DAGs registered (child processes) while the exports are generated
    with ThreadPoolExecutor(1) as pool:

        def init() -> None:
            airflow_runner.init_airflow(env)
            airflow_runner.register_dags(env)

        migrated = pool.submit(init)
        generate(preset="demo", seed=seed, months=months, out=out, faults=False, progress=progress)
        migrated.result()
    home = Home(out)
    all_days = pipeline.day_folders(home.landing)
    run_days = all_days[:days] if days else all_days
    print(f"demo exports: {home.landing} ({len(all_days)} days); Airflow home: {out / 'airflow'}", flush=True)

    def show(r: dict) -> None:
        cpu = f", {r['cpu_seconds']} CPU s" if r.get("cpu_seconds") is not None else ""
        print(f"  {r['dag_id']} {r['key']}: {r['state']} in {r['seconds']} s{cpu}", flush=True)

    history, night_days = (run_days[:-nights], run_days[-nights:]) if nights > 0 else (run_days, [])
    months_ = _months(run_days)
    writer = [
        *([("backfill", [history[-1].isoformat()])] if history else []),
        *([("nightly", [d.isoformat() for d in night_days])] if night_days else []),
    ]
    assessment = [("monthly_assessment", months_)] if months_ else []
    plan = writer + assessment
    from kefu.assessment_flow import signing_drafts

    # two lanes, as Airflow's scheduler runs two DAGs: the writer's DAGs in one child process, and
    # monthly_assessment in another, each month's run waiting (its first sensor) for the month's last
    # night to be published (D-204); the demo signs each draft itself (issue 21; D-130)
    # (the sensors poke every second and the demo signs within half a second: no idle core-seconds)
    demo_env = env | {"KEFU_SIGNOFF_POKE_SECONDS": "1", "KEFU_MONTH_END_POKE_SECONDS": "1"}
    with signing_drafts(home, months_, every=0.5):
        lanes = airflow_runner.run_lanes([lane for lane in (writer, assessment) if lane], demo_env, on_result=show)
    results = [r for lane in lanes for r in lane]
    ran = {dag_id: [r for r in results if r["dag_id"] == dag_id] for dag_id, _ in plan}
    for dag_id, keys in plan:
        done = ran[dag_id]
        if len(done) < len(keys) or done[-1]["state"] != "success":
            failed = [r for r in results if r["state"] != "success"]
            last = failed[0] if failed else (done[-1] if done else {"key": "", "log_tail": ""})
            raise SystemExit(f"kefu demo: {last.get('dag_id', dag_id)} {last['key']} failed:\n{last['log_tail']}")
    backfilled, nightly, monthly = ran.get("backfill", []), ran.get("nightly", []), ran.get("monthly_assessment", [])
    exact = None
    if run_days == all_days:
        exact = exactness.compare(home.published, out / "expected" / "kpi_expected.csv")
    return {
        "home": home,
        "backfill": backfilled,
        "history_days": len(history),
        "nights": nightly,
        "monthly": monthly,
        "exact": exact,
        "seconds": round(time.monotonic() - t0, 1),
    }


def _cmd_demo(args) -> int:
    from kefu import exactness

    res = run_demo(
        Path(args.out),
        seed=args.seed,
        months=args.months,
        days=args.days,
        progress=not args.no_progress,
        nights=args.nights,
    )
    home: Home = res["home"]
    print(
        f"\n演示完成 demo done in {res['seconds']} s: backfill of {res['history_days']} days in one batch, "
        f"{len(res['nights'])} nightly runs, {len(res['monthly'])} monthly assessments, all through Airflow "
        "(dag.test)"
    )
    print(f"  published warehouse (read-only): {home.published}")
    print(f"  run logs + GX Data Docs:         {home.logs}/<date>/<run>/")
    print(f"  monthly assessment + reports:    {home.published_dir / 'assessment'}")
    print(f"  dbt docs for analysts:           {home.published_dir / 'dbt_docs' / 'index.html'}")
    print(f"  dashboard:  KEFU_HOME={home.root} kefu dashboard")
    print(f'  SQL:        KEFU_HOME={home.root} kefu sql "select * from marts.kpi_rule_results limit 5"')
    print(f"  Airflow UI: kefu airflow-ui --home {home.root}")
    if res["exact"] is not None:
        print(exactness.summary(res["exact"]))
        return 0 if res["exact"].empty else 1
    return 0


def _cmd_airflow_ui(args) -> int:
    from kefu import airflow_runner

    home = _home(args)
    airflow_home = Path(args.airflow_home) if args.airflow_home else home.root / "airflow"
    env = airflow_runner.airflow_env(home.root, airflow_home, demo_key=args.demo_key)
    env["AIRFLOW__API__PORT"] = str(args.port)
    # LocalExecutor forks `parallelism` workers (32 by default); the writer pool has one slot
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "4")
    airflow_runner.init_airflow(env)
    print(
        f"Airflow UI on http://localhost:{args.port} — DAGs nightly, monthly_assessment; KEFU_HOME={home.root}; "
        f"login: admin, password in {airflow_home / 'simple_auth_manager_passwords.json.generated'}"
    )
    exe = Path(sys.executable).with_name("airflow")
    sys.stdout.flush()
    # become `airflow standalone` (same pid, same process group): Ctrl-C reaches it and its components.
    # It starts them by name from PATH; airflow_env() puts this interpreter's bin folder first.
    os.execve(str(exe), [str(exe), "standalone"], env)


def add_parser(sub) -> None:
    home_help = (
        "installation folder (landing/, archive/, warehouse/, published/ …; default $KEFU_HOME or out/kefu_home)"
    )

    n = sub.add_parser(
        "nightly",
        help="the nightly run for one business date, in this process (每日入库发布)",
        description="Ingest landing/DATE, build, contract gate, threshold suites, publish — the "
        "steps of the Airflow DAG `nightly`, without Airflow.",
    )
    n.add_argument("--date", required=True, help="business date YYYY-MM-DD")
    n.add_argument("--home", default=None, help=home_help)
    n.add_argument("--config", default=None, help="ingest configuration YAML (pii_key, mappings, …)")
    n.add_argument(
        "--demo-key", action="store_true", help="hash personal data with the public demo key (demo data only)"
    )
    n.set_defaults(func=_cmd_nightly)

    m = sub.add_parser(
        "monthly",
        help="close a month: assessment tables and reports (月度考核)",
        description="The steps of the Airflow DAG `monthly_assessment` for one month, in this process.",
    )
    m.add_argument("--month", required=True, help="YYYY-MM")
    m.add_argument("--home", default=None, help=home_help)
    m.set_defaults(func=_cmd_monthly)

    r = sub.add_parser(
        "rebuild",
        help="rebuild the warehouse from the archived exports (从归档重建)",
        description="Ingest every archived day into a new warehouse file, build it with every data "
        "test, run the gates, swap it in and publish. Pause the nightly DAG first.",
    )
    r.add_argument("--home", default=None, help=home_help)
    r.add_argument("--config", default=None, help="ingest configuration YAML")
    r.add_argument(
        "--demo-key", action="store_true", help="hash personal data with the public demo key (demo data only)"
    )
    r.set_defaults(func=_cmd_rebuild)

    d = sub.add_parser(
        "demo",
        help="the whole pipeline on demo data, through Airflow (演示)",
        description="Generate the demo exports into OUT/landing, then run the Airflow DAG `backfill` "
        "(the history in one batch), `nightly` for the last days and `monthly_assessment` for every month (dag.test, SQLite metadata in "
        "OUT/airflow), and check the published kpi_rule_results against the answer key.",
    )
    d.add_argument("--out", default="out/demo", help="demo installation folder (replaced if it is a previous demo)")
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--months", type=int, default=None, help="months of demo data (default: the preset's)")
    d.add_argument("--days", type=int, default=None, help="run only the first N demo days (no answer-key check)")
    d.add_argument(
        "--nights",
        type=int,
        default=DEMO_NIGHTS,
        help=f"run the last N days through the nightly DAG (default {DEMO_NIGHTS}); the days before "
        "them are loaded by the backfill DAG in one batch (all of them with --nights 0 … every day "
        "nightly with --nights 999)",
    )
    d.add_argument("--no-progress", action="store_true")
    d.set_defaults(func=_cmd_demo)

    a = sub.add_parser(
        "airflow-ui",
        help="start the Airflow UI (airflow standalone) with the kefu DAGs",
        description="airflow db migrate, the writer pool, then `airflow standalone` with dags/ and KEFU_HOME set.",
    )
    a.add_argument("--home", default=None, help=home_help)
    a.add_argument("--airflow-home", default=None, help="AIRFLOW_HOME (default HOME/airflow)")
    a.add_argument("--port", type=int, default=8080)
    a.add_argument("--demo-key", action="store_true", help="runs hash personal data with the public demo key")
    a.set_defaults(func=_cmd_airflow_ui)
