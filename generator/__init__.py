"""Realistic export generator with a known answer key (`kefu generate`)."""
