"""Subcommand placeholder: filled by its issue."""


def add_parser(sub) -> None:
    """Add this module's subcommands to the kefu CLI."""
