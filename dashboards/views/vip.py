"""VIP服务: V1–V7 (VIP field service, regulation D1)."""

from dashboards import ui

ui.rule_family("VIP服务 · VIP service", ["V1", "V2", "V3", "V4", "V5", "V6", "V7"], "vip")
