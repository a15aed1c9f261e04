"""`kefu notify test`: send a test message of one event to the channels configured for it and print
what went where (URLs masked)."""

from __future__ import annotations

import argparse
import sys


def _cmd_notify_test(args: argparse.Namespace) -> int:
    from kefu import notify

    try:
        cfg = notify.load(args.config)
    except notify.NotifyConfigError as e:
        print(f"kefu notify: {e}", file=sys.stderr)
        return 2
    print(f"configuration 配置: {cfg.source} · {len(cfg.channels)} channels")
    if not cfg.channels:
        print(
            f"no channel configured 未配置通知渠道: write {notify.config_path()} (or set {notify.CONFIG_ENV}); "
            "see docs/notifications.md",
            file=sys.stderr,
        )
        return 1
    try:
        deliveries = notify.send(
            args.event,
            "测试消息 · test message",
            f"kefu notify test --event {args.event}: 若您收到此消息，通知渠道已配置成功 · "
            "if you read this, the channel works.",
            args.audience,
            config=cfg,
        )
    except ValueError as e:  # an audience not understood
        print(f"kefu notify: {e}", file=sys.stderr)
        return 2
    for d in deliveries:
        print(("  ok   " if d.ok else "  FAIL ") + d.line())
    if not deliveries:
        print(f"  no channel's audience is concerned by {args.event} {args.audience or ''} (无接收渠道)")
    return 0 if deliveries and all(d.ok for d in deliveries) else 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    from kefu.notify import EVENTS

    n = sub.add_parser(
        "notify",
        help="notifications: e-mail, WeCom / DingTalk / Feishu robots (通知)",
        description="Notifications go through apprise to the channels of "
        "$KEFU_HOME/secrets/notify.yml (or $KEFU_NOTIFY_CONFIG); docs/notifications.md.",
    )
    nsub = n.add_subparsers(dest="notify_command", required=True, metavar="ACTION")
    t = nsub.add_parser(
        "test",
        help="send a test message to the channels concerned and print what went where",
        description="Send a test message of EVENT to every channel whose audience is concerned "
        "(the event's own audience plus --audience) and print each delivery, URLs masked. "
        "Exit 0: all delivered; 1: a channel failed or none is concerned; 2: bad configuration.",
    )
    t.add_argument("--event", required=True, choices=list(EVENTS), help="which event's channels to test")
    t.add_argument(
        "--audience",
        action="append",
        default=[],
        help="also concerned: all, role:<role>, district:<id>, technician:<id> (repeatable)",
    )
    t.add_argument(
        "--config",
        default=None,
        help="notification config YAML (default: $KEFU_NOTIFY_CONFIG, else $KEFU_HOME/secrets/notify.yml)",
    )
    t.set_defaults(func=_cmd_notify_test)
