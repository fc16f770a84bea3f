"""The small corpus context every stage receives: root directory, store, settings.

Stages take a :class:`Context` (never the notebook facade :class:`curator.Corpus`, which sits
above them and subclasses this), so the import graph points one way: facade and CLI → stages →
context → store/settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import CuratorError
from .settings import CONFIG_NAME, DEFAULT_CONFIG_TEXT, Settings
from .store import Store

DB_NAME = "curator.db"
DEFAULT_DIR = "corpus"


def resolve_dir(path: str | os.PathLike | None) -> Path:
    """--corpus flag, else $CURATOR_CORPUS, else ./corpus."""
    return Path(path or os.environ.get("CURATOR_CORPUS") or DEFAULT_DIR)


class Context:
    """An opened corpus directory: ``root``, ``store`` (SQLite) and strict ``settings``."""

    def __init__(self, root: Path, store: Store, settings: Settings | None = None):
        self.root = Path(root)
        self.store = store
        self._settings = settings

    @classmethod
    def init(cls, path: str | os.PathLike | None = None):
        """Create (or re-open) a corpus directory: config file if absent, store migrated."""
        root = resolve_dir(path)
        root.mkdir(parents=True, exist_ok=True)
        config = root / CONFIG_NAME
        if not config.exists():
            config.write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
        settings = Settings.load(config)  # a bad file is refused before the store is touched
        return cls(root, Store(root / DB_NAME), settings)

    @classmethod
    def open(cls, path: str | os.PathLike | None = None):
        """Open an existing corpus; a directory that is not one is an error saying what to run."""
        root = resolve_dir(path)
        if not (root / DB_NAME).exists() and not (root / CONFIG_NAME).exists():
            raise CuratorError(f"{root}: not a curator corpus (no {CONFIG_NAME}); run `curator init {root}`")
        settings = Settings.load(root / CONFIG_NAME)
        return cls(root, Store(root / DB_NAME), settings)

    def close(self) -> None:
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.load(self.root / CONFIG_NAME)
        return self._settings

    def setting(self, section: str, key: str, default: Any = None) -> Any:
        """One effective value (``default`` when the declared default is None)."""
        value = self.settings.get(section, key)
        return default if value is None else value
