"""Errors a user can act on. The CLI prints their message as one line and exits with ``code``."""


class CuratorError(Exception):
    """Bad input or state: the message names the file/row/URL and what to do. Exit code 2."""

    code = 2


class RemoteError(CuratorError):
    """A remote side (web site, LLM endpoint) failed. Exit code 1."""

    code = 1
