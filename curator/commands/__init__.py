"""CLI command groups by area; each module exposes ``commands: list[click.Command]``.

cli.py registers them; keeping each area's commands in its own module keeps cli.py thin and lets
areas change without touching each other.
"""
