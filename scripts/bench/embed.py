"""Embedding: `curator embed` vs raw SentenceTransformer.encode on the same real prompts, same run.

Real prompts from ../shared/data (all ≈13.4k by default; jittered copies beyond that). The raw
baseline is one `model.encode(texts, batch_size, normalize_embeddings=True)` call on the same
model object, and curator's run includes hashing, the length sort, storage of every vector and the
event. The two alternate over slices of the texts (raw on slice 1, curator on slice 1, raw on
slice 2, …) so load from other processes hits both alike; CPU time is reported beside wall time.

The baseline call runs in a worker thread, like curator's model calls: measured here, torch's
OpenMP team started from the *main* thread spin-waits (OMP_WAIT_POLICY active), which on a
loaded 2-core machine costs 3-4× (raw_encode_main_thread, measured on the first slice, shows it;
with OMP_WAIT_POLICY=PASSIVE both threads run alike). Comparing thread with thread measures
what curator adds, not that artefact. Target: curator_vs_raw >= 0.95.
"""

from __future__ import annotations

import argparse
import random
import threading
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import jittered_texts  # noqa: E402

from curator import Corpus  # noqa: E402
from curator.embed import embed_corpus, load_model, load_vectors  # noqa: E402
from curator.items import PromptRecord, Provenance, add_prompts  # noqa: E402


def in_thread(fn) -> None:
    """Run ``fn`` in a fresh thread, as curator's pipeline runs the model (see the module doc)."""
    worker = threading.Thread(target=fn)
    worker.start()
    worker.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=0, help="texts (default: every real prompt; --quick: 1500)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--slices", type=int, default=8, help="raw/curator alternations over slices of the texts")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = args.n or (1500 if args.quick else 0)
    slices = 2 if args.quick else args.slices
    from _data import real_prompts

    data = jittered_texts(n) if n else real_prompts()
    random.Random(0).shuffle(data)
    model = load_model(None, "cpu")
    model.encode(data[:128], batch_size=args.batch_size)  # warm-up for both
    wall = {"raw": 0.0, "curator": 0.0}
    cpu = {"raw": 0.0, "curator": 0.0}
    with tempfile.TemporaryDirectory() as tmp, Corpus.init(Path(tmp) / "c") as corpus:
        for s in range(slices):
            part = data[s::slices]
            w, c = time.perf_counter(), time.process_time()
            in_thread(lambda: model.encode(part, batch_size=args.batch_size, normalize_embeddings=True,
                                           show_progress_bar=False))
            wall["raw"] += time.perf_counter() - w
            cpu["raw"] += time.process_time() - c
            if s == 0:  # the same call from the main thread, as a plain script makes it
                w = time.perf_counter()
                model.encode(part, batch_size=args.batch_size, normalize_embeddings=True, show_progress_bar=False)
                main_thread = len(part) / (time.perf_counter() - w)
            with corpus.store.transaction() as conn:
                add_prompts(conn, [PromptRecord(x, "public", Provenance("bench", "prompts", row=i))
                                   for i, x in enumerate(part)])
            w, c = time.perf_counter(), time.process_time()
            done = embed_corpus(corpus, batch_size=args.batch_size, device="cpu")
            wall["curator"] += time.perf_counter() - w
            cpu["curator"] += time.process_time() - c
            assert done["embedded"] == len(part), done
        t = time.perf_counter()
        summary = embed_corpus(corpus, batch_size=args.batch_size, device="cpu")
        rerun = time.perf_counter() - t
        assert summary["embedded"] == 0
        ids = [row[0] for row in corpus.store.query("SELECT id FROM prompts")]
        t = time.perf_counter()
        x = load_vectors(corpus, ids)
        load = time.perf_counter() - t
        assert x.shape == (len(data), 384)
    n = len(data)
    print(f"texts: {n} prompts")
    print(f"slices: {slices} count")
    print(f"raw_encode: {n / wall['raw']:.1f} prompts/s")
    print(f"raw_encode_main_thread: {main_thread:.1f} prompts/s")
    print(f"curator_embed: {n / wall['curator']:.1f} prompts/s")
    print(f"curator_vs_raw: {wall['raw'] / wall['curator']:.3f} ratio")
    print(f"curator_vs_raw_cpu_time: {cpu['raw'] / cpu['curator']:.3f} ratio")
    print(f"noop_reembed: {rerun:.3f} s")
    print(f"vector_load: {load:.3f} s")


if __name__ == "__main__":
    main()
