-- 001: the core tables of DESIGN.md.
-- Ids are content ids (curator.text.content_id): a hash of the normalised text.
-- Nothing is ever deleted by a command: statuses and duplicate_of instead.

CREATE TABLE prompts (
    id            TEXT PRIMARY KEY,            -- content_id(text)
    text          TEXT NOT NULL,               -- first-seen spelling
    origin        TEXT NOT NULL,               -- seed|public|scraped|template|combined|generated|generated-prompt|local
    source        TEXT,                        -- dataset or source name it first came from
    url           TEXT,
    category      TEXT,                        -- change category when known (templates, labels)
    status        TEXT NOT NULL DEFAULT 'active',  -- active|rejected
    duplicate_of  TEXT REFERENCES prompts(id), -- set by dedup, never a deletion
    created_at    TEXT NOT NULL,
    meta          TEXT NOT NULL DEFAULT '{}'   -- JSON: template id, values, parts, labels, ...
);
CREATE INDEX prompts_origin ON prompts(origin);
CREATE INDEX prompts_dup ON prompts(duplicate_of);

CREATE TABLE samples (
    id                TEXT PRIMARY KEY,        -- content_id(original_text, rewrite_prompt, rewritten_text)
    prompt_id         TEXT REFERENCES prompts(id),  -- NULL for unlabelled samples (Kaggle test.csv)
    rewrite_prompt    TEXT NOT NULL,              -- '' when unlabelled
    original_text     TEXT NOT NULL,
    rewritten_text    TEXT NOT NULL,
    origin            TEXT NOT NULL,
    dataset           TEXT NOT NULL,
    model             TEXT,                    -- the model that wrote the rewrite, when known
    status            TEXT NOT NULL DEFAULT 'candidate',  -- candidate|train|rejected|target
    created_at        TEXT NOT NULL,
    meta              TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX samples_status ON samples(status);
CREATE INDEX samples_dataset ON samples(dataset);
CREATE INDEX samples_prompt ON samples(prompt_id);

-- Where every row came from. One row per (item, file, row): re-ingesting a file adds nothing,
-- the same prompt in two files keeps both provenances.
CREATE TABLE provenance (
    item_kind   TEXT NOT NULL,                 -- prompt|sample
    item_id     TEXT NOT NULL,
    dataset     TEXT NOT NULL,
    role        TEXT NOT NULL,                 -- samples|prompts|target|scraped|template|combined|generated
    file        TEXT,                          -- file name (or URL for scraped pages)
    sha256      TEXT,                          -- of the file's bytes
    row         INTEGER,                       -- 1-based data row (or position on a page)
    context     TEXT,                          -- heading a scraped prompt was under, etc.
    created_at  TEXT NOT NULL,
    PRIMARY KEY (item_kind, item_id, dataset, sha256, row)
);
CREATE INDEX provenance_file ON provenance(sha256);
CREATE INDEX provenance_item ON provenance(item_id, role);

-- Each ingested file once per (sha256, dataset, role); a repeat is recognised before parsing.
CREATE TABLE files (
    sha256       TEXT NOT NULL,
    dataset      TEXT NOT NULL,
    role         TEXT NOT NULL,                -- samples|prompts|target
    path         TEXT NOT NULL,
    rows         INTEGER NOT NULL,
    summary      TEXT NOT NULL,                -- JSON of the ingest summary
    ingested_at  TEXT NOT NULL,
    PRIMARY KEY (sha256, dataset, role)
);

-- Predicted prompts per (sample, predictor): several predictors coexist.
CREATE TABLE predictions (
    sample_id         TEXT NOT NULL REFERENCES samples(id),
    predictor         TEXT NOT NULL,
    predicted_prompt  TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    meta              TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (sample_id, predictor)
);

-- SCS per (sample, predictor, metric model).
CREATE TABLE scores (
    sample_id     TEXT NOT NULL REFERENCES samples(id),
    predictor     TEXT NOT NULL,
    metric_model  TEXT NOT NULL,
    score         REAL NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (sample_id, predictor, metric_model)
);

-- Embedding cache: float32 bytes keyed by (model, content id of the text).
CREATE TABLE embeddings (
    model    TEXT NOT NULL,
    text_id  TEXT NOT NULL,
    dim      INTEGER NOT NULL,
    vector   BLOB NOT NULL,
    PRIMARY KEY (model, text_id)
);

-- Dedup runs and the changes they made, so --undo restores exactly.
CREATE TABLE dedup_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    model       TEXT NOT NULL,
    threshold   REAL NOT NULL,
    created_at  TEXT NOT NULL,
    undone_at   TEXT,
    summary     TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE dedup_changes (
    run_id        INTEGER NOT NULL REFERENCES dedup_runs(id),
    prompt_id     TEXT NOT NULL,
    old_duplicate_of TEXT,
    new_duplicate_of TEXT,
    PRIMARY KEY (run_id, prompt_id)
);

-- Clustering runs; cluster ids are stable across runs (matched to the previous run's centroids).
CREATE TABLE clusterings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    model       TEXT NOT NULL,
    k           INTEGER NOT NULL,
    seed        INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    params      TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE cluster_members (
    clustering_id  INTEGER NOT NULL REFERENCES clusterings(id),
    prompt_id      TEXT NOT NULL,
    cluster        INTEGER NOT NULL,
    distance       REAL,
    PRIMARY KEY (clustering_id, prompt_id)
);
CREATE TABLE cluster_labels (
    clustering_id      INTEGER NOT NULL REFERENCES clusterings(id),
    cluster            INTEGER NOT NULL,
    label              TEXT NOT NULL,
    terms              TEXT NOT NULL DEFAULT '[]',
    central_prompt_id  TEXT,
    centroid           BLOB,
    size               INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (clustering_id, cluster)
);

-- The LLM journal: a re-run sends only the calls not yet answered.
CREATE TABLE llm_calls (
    request_hash  TEXT PRIMARY KEY,            -- hash(model, messages, parameters, seed)
    purpose       TEXT,                        -- generate|rewrite|brainstorm|predict
    model         TEXT NOT NULL,
    request       TEXT NOT NULL,               -- JSON (never holds an API key)
    response      TEXT,
    status        TEXT NOT NULL,               -- pending|ok|invalid|failed
    error         TEXT,
    tokens_in     INTEGER,
    tokens_out    INTEGER,
    cost          REAL,
    started_at    TEXT,
    finished_at   TEXT
);

-- Scraped pages: cache validators and what each page yielded.
CREATE TABLE pages (
    url           TEXT PRIMARY KEY,
    source        TEXT NOT NULL,
    status        INTEGER,
    etag          TEXT,
    last_modified TEXT,
    sha256        TEXT,
    fetched_at    TEXT,
    prompts       INTEGER NOT NULL DEFAULT 0,
    error         TEXT
);

-- What was done: every command that changes the store, and each review decision.
CREATE TABLE events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    command  TEXT NOT NULL,
    args     TEXT NOT NULL DEFAULT '{}',
    summary  TEXT NOT NULL DEFAULT '{}'
);
