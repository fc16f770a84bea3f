"""curator: training data for LLM prompt recovery.

A notebook user needs only :class:`Corpus`::

    from curator import Corpus
    corpus = Corpus.open("corpus")
    corpus.ingest("public.csv", dataset="public")
    corpus.samples(status="train")
"""

__version__ = "0.1.0"

from .errors import CuratorError  # noqa: E402
from .workspace import Corpus  # noqa: E402

__all__ = ["Corpus", "CuratorError", "__version__"]
