"""What every command module shares: opening the corpus of the current invocation."""

from __future__ import annotations

import click

from ..workspace import Corpus


def open_corpus(ctx: click.Context) -> Corpus:
    """The corpus named by ``--corpus`` / ``$CURATOR_CORPUS`` / ``./corpus``, closed when the command ends."""
    corpus = Corpus.open(ctx.find_root().obj["corpus_dir"])
    ctx.call_on_close(corpus.close)
    return corpus
