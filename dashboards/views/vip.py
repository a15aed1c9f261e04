"""VIP服务: V1–V7 (VIP field service, regulation D1)."""

from dashboards import ui
from kefu import rulebook

ui.rule_family("VIP服务 · VIP service", rulebook.page_measures("vip"), "vip")
