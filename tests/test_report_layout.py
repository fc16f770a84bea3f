"""The report's map layout (numpy t-SNE of the centroids) on real prompt embeddings, and the
report's import diet: no scikit-learn, no scipy.stats."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from curator.report.layout import centroid_layout, map_points, tsne


@pytest.fixture(scope="module")
def real_vectors(shared_data_module):
    from curator.embed import model_encoder

    prompts = json.loads((shared_data_module / "prompts/procedural_prompts.json").read_text(encoding="utf-8"))
    texts = [prompts[i] for i in np.random.default_rng(0).permutation(len(prompts))[:1500]]
    return model_encoder()(texts)


@pytest.fixture(scope="module")
def shared_data_module():
    from conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"real public data not found at {SHARED_DATA}; the layout is compared on real embeddings")
    return SHARED_DATA


def test_tsne_keeps_neighbourhoods_as_well_as_scikit_learn(real_vectors):
    """Trustworthiness (5 nearest, cosine) of our exact t-SNE of real centroids against
    scikit-learn's Barnes-Hut t-SNE with the settings the report used before, over several k:
    single layouts differ both ways by a few points (local optima), the mean must not drop."""
    from sklearn.manifold import TSNE, trustworthiness

    from curator.cluster import kmeans

    ours, theirs = [], []
    for k in (12, 20, 30, 45, 60, 80, 110, 150):  # eight layouts: one layout's luck moves a mean of five by 0.01
        centroids, _ = kmeans(real_vectors, k, seed=0)
        perplexity, nn = min(30.0, (k - 1) / 3), min(5, k // 2 - 1)
        y = tsne(centroids, perplexity)
        assert np.isfinite(y).all() and np.array_equal(y, tsne(centroids, perplexity))  # deterministic
        ours.append(trustworthiness(centroids, y, n_neighbors=nn, metric="cosine"))
        theirs.append(trustworthiness(centroids, TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=0, metric="cosine",
            max_iter=500).fit_transform(centroids.astype(np.float64)), n_neighbors=nn, metric="cosine"))
    print("ours", np.round(ours, 3), "scikit-learn", np.round(theirs, 3))
    assert np.mean(ours) >= np.mean(theirs) - 0.01 and min(ours) > 0.75


def test_layout_and_points_stay_in_the_unit_square(real_vectors):
    from curator.cluster import kmeans

    for k in (1, 2, 4, 9):
        centroids, assign = kmeans(real_vectors[:300], k, seed=1) if k > 1 else \
            (real_vectors[:1] / np.linalg.norm(real_vectors[:1]), np.zeros(300, dtype=np.int64))
        xy, layout = map_points(real_vectors[:300], assign, centroids)
        assert layout.shape == (k, 2) and xy.shape == (300, 2)
        assert layout.min() >= 0 and layout.max() <= 1 and np.isfinite(xy).all()
        assert np.array_equal(layout, centroid_layout(centroids))


def test_the_report_imports_neither_scikit_learn_nor_scipy_stats(tmp_path):
    """coverage --html paid ~1.2 s of imports for a t-SNE and a KS p-value; both are numpy now."""
    from curator import Corpus
    from curator.items import PromptRecord, Provenance, add_prompts

    train = [f"Rewrite this as a {w} poem." for w in ("sad", "happy", "short", "long", "funny", "dark")] + \
            [f"Translate this into {w}." for w in ("French", "German", "Spanish", "Italian", "Dutch", "Greek")] + \
            [f"Make it sound like {w}." for w in ("a pirate", "a robot", "a lawyer", "a chef", "a child", "a poet")]
    target = ["Turn this into a sea shanty.", "Rewrite this as a haiku.", "Translate this into Welsh.",
              "Make it sound like a cowboy."]
    with Corpus.init(tmp_path / "c") as c:
        with c.store.transaction() as conn:
            add_prompts(conn, [PromptRecord(t, "public", Provenance("d", "prompts", row=i)) for i, t in enumerate(train)])
            add_prompts(conn, [PromptRecord(t, "public", Provenance("t", "target", row=i)) for i, t in enumerate(target)])
        c.cluster(k=6)
    code = ("import sys; from curator import Corpus; c = Corpus.open(sys.argv[1]); c.coverage(html=sys.argv[2]); "
            "print(sorted({m.split('.')[0] + ('.stats' if m.startswith('scipy.stats') else '') for m in sys.modules "
            "if m.startswith(('sklearn', 'scipy.stats'))}))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "c"), str(tmp_path / "r.html")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    assert "Dataset card" in (tmp_path / "r.html").read_text(encoding="utf-8")
