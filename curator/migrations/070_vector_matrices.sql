-- 070: embeddings move from one BLOB per row to one float32 matrix file per model
-- (<corpus>/vectors/<model>-<hash>.f32, see curator/vectors.py). SQLite keeps the map from content
-- id to row and the committed row count; rows past that count are never read (crash safety).
-- The old `embeddings` table stays (empty once curator/vectors.py has moved its rows).

CREATE TABLE embedding_matrices (
    model  TEXT PRIMARY KEY,
    dim    INTEGER NOT NULL,
    dtype  TEXT NOT NULL DEFAULT 'float32',
    rows   INTEGER NOT NULL DEFAULT 0,     -- committed rows; the file may hold more (ignored)
    file   TEXT NOT NULL                   -- name inside <corpus>/vectors/
);

CREATE TABLE embedding_rows (
    model    TEXT NOT NULL,
    text_id  TEXT NOT NULL,
    row      INTEGER NOT NULL,
    PRIMARY KEY (model, text_id)
) WITHOUT ROWID;
