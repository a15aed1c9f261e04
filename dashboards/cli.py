"""`kefu dashboard`: the manager dashboard (Streamlit) on the published warehouse.

Sign-in (decisions D-95, docs/security.md) is configured in ONE file, the auth file:
$KEFU_HOME/secrets/dashboard_auth.toml by default, or --auth FILE. It is a Streamlit secrets file:
its [auth] section is Streamlit's own OpenID Connect settings (redirect_uri, cookie_secret,
client_id, client_secret, server_metadata_url), its [kefu] section names the roles file
(`roles_file`, relative to the auth file). Without an auth file the dashboard listens on
127.0.0.1 only, for the one local user (manager scope); listening on another address without
sign-in needs --insecure-no-login.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import subprocess
import sys
import tomllib
from pathlib import Path

APP = Path(__file__).with_name("app.py")
AUTH_FILE = Path("secrets") / "dashboard_auth.toml"  # under $KEFU_HOME


class AuthFileError(ValueError):
    pass


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def read_auth_file(path: Path) -> Path:
    """Check the auth file; return the roles file it names (absolute)."""
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AuthFileError(f"cannot read the auth file {path}: {exc}") from None
    auth = spec.get("auth")
    if not isinstance(auth, dict):
        raise AuthFileError(f"{path}: no [auth] section (Streamlit's OpenID Connect settings, docs/security.md)")
    missing = [k for k in ("redirect_uri", "cookie_secret", "client_id", "server_metadata_url") if k not in auth]
    if missing:
        raise AuthFileError(f"{path}: [auth] lacks {', '.join(missing)}")
    roles = (spec.get("kefu") or {}).get("roles_file")
    if not roles:
        raise AuthFileError(f"{path}: [kefu] roles_file is missing (the YAML that maps users to roles and scopes)")
    roles = (path.parent / roles).resolve()
    if not roles.exists():
        raise AuthFileError(f"{path}: roles file {roles} does not exist")
    return roles


def streamlit_command(
    warehouse: Path,
    port: int,
    address: str = "127.0.0.1",
    auth_file: Path | None = None,
    insecure_no_login: bool = False,
) -> tuple[list[str], dict[str, str]]:
    """`streamlit run` of the app on an address and port, and its environment (the app reads
    $KEFU_PUBLISHED; $KEFU_ROLES and the auth file when sign-in is configured)."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("KEFU_ROLES", "KEFU_INSECURE_NO_LOGIN")}
    env["KEFU_PUBLISHED"] = str(warehouse)
    if auth_file is not None:
        env["KEFU_ROLES"] = str(read_auth_file(auth_file))
        cmd += ["--secrets.files", str(auth_file)]
    if insecure_no_login:
        env["KEFU_INSECURE_NO_LOGIN"] = "1"
    return cmd, env


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from kefu.home import Home, published_path

    warehouse = published_path(args.warehouse).resolve()
    if not warehouse.exists():
        print(
            f"kefu dashboard: published warehouse {warehouse} does not exist yet: "
            "run the nightly job (or `make demo`) first, or pass --warehouse",
            file=sys.stderr,
        )
        return 2
    auth = Path(args.auth) if args.auth else Home.from_env().root / AUTH_FILE
    if args.auth and not auth.exists():
        print(f"kefu dashboard: auth file {auth} does not exist", file=sys.stderr)
        return 2
    auth = auth if auth.exists() else None
    if auth is None and not is_loopback(args.bind) and not args.insecure_no_login:
        print(
            f"kefu dashboard: no identity provider configured (no {Home.from_env().root / AUTH_FILE}, no --auth): "
            f"refusing to listen on {args.bind} without sign-in. Configure sign-in (docs/security.md), or pass "
            "--insecure-no-login to serve everything to anyone who can reach the port / 未配置登录，不对外提供看板",
            file=sys.stderr,
        )
        return 2
    try:
        cmd, env = streamlit_command(warehouse, args.port, args.bind, auth, args.insecure_no_login)
    except AuthFileError as exc:
        print(f"kefu dashboard: {exc}", file=sys.stderr)
        return 2
    host = "localhost" if is_loopback(args.bind) else args.bind
    print(f"客服考核看板 · dashboard on http://{host}:{args.port} reading {warehouse} (read-only)")
    if auth is not None:
        print(f"sign-in: {auth} (OpenID Connect), roles {env['KEFU_ROLES']}")
    elif args.insecure_no_login:
        print(
            "WARNING: no sign-in (--insecure-no-login): anyone who can reach the port sees every district "
            "/ 未登录模式：任何人都能看到全部数据"
        )
    else:
        print(f"no identity provider configured: listening on {args.bind} only (本机模式，仅本机可访问)")
    return subprocess.call(cmd, env=env)


def add_parser(sub) -> None:
    """Add `kefu dashboard` to the kefu CLI."""
    d = sub.add_parser(
        "dashboard",
        help="the manager dashboard on the published warehouse (管理看板)",
        description="Start the Streamlit dashboard (Chinese interface) on the published warehouse, read-only: "
        "every rule of the month with red/amber/green status, districts A1–A6, technician scorecards with "
        "drill-down to the tickets, hotline 7×24 coverage, satisfaction, callbacks, VIP, halls, notices and "
        "the early warning of open tickets. Sign-in and scopes: docs/security.md.",
    )
    d.add_argument(
        "--warehouse",
        default=None,
        help="published warehouse file (default: $KEFU_PUBLISHED, else $KEFU_HOME/published/kefu.duckdb)",
    )
    d.add_argument("--port", type=int, default=8501, help="HTTP port (default 8501)")
    d.add_argument(
        "--bind",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; another address needs sign-in or --insecure-no-login)",
    )
    d.add_argument(
        "--auth",
        default=None,
        help="auth file: Streamlit secrets TOML with [auth] (OpenID Connect) and [kefu] roles_file "
        "(default: $KEFU_HOME/secrets/dashboard_auth.toml if it exists)",
    )
    d.add_argument(
        "--insecure-no-login",
        action="store_true",
        help="without sign-in, still listen on a non-loopback --bind address: everyone sees everything",
    )
    d.set_defaults(func=_cmd_dashboard)
