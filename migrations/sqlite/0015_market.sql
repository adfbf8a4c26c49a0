-- The marketplace (SQLite): gigs with the columns search reads, the append-only history every
-- gig's state replays from, full-text search of open gigs, and the answers to requests sent
-- with an Idempotency-Key. Append-only: never edit a migration that has shipped. Times are unix
-- seconds; amounts integer minor units.

-- One row per gig. `state` is the gig's aggregate as JSON, always the fold of its history;
-- `version` is its last history entry, so an update that names the version it read cannot
-- overwrite a concurrent one. The other columns are copies for search and the timer job.
CREATE TABLE market_gigs (
    id            TEXT PRIMARY KEY,
    client        TEXT NOT NULL,
    worker        TEXT,
    status        TEXT NOT NULL CHECK (status IN ('open', 'contracted', 'completed', 'cancelled', 'expired')),
    version       BIGINT NOT NULL,
    state         TEXT NOT NULL,
    category      TEXT NOT NULL,
    lat           DOUBLE PRECISION,
    lon           DOUBLE PRECISION,
    currency      TEXT NOT NULL,
    pay_max_minor BIGINT NOT NULL,
    req_tier_rank BIGINT NOT NULL,
    req_min_score BIGINT NOT NULL,
    deadline      BIGINT NOT NULL,
    posted_at     BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    next_timer_at BIGINT
);
CREATE INDEX market_gigs_open ON market_gigs (posted_at DESC, id DESC) WHERE status = 'open';
CREATE INDEX market_gigs_open_category ON market_gigs (category, posted_at DESC, id DESC) WHERE status = 'open';
CREATE INDEX market_gigs_open_geo ON market_gigs (lat, lon) WHERE status = 'open' AND lat IS NOT NULL;
CREATE INDEX market_gigs_timer ON market_gigs (next_timer_at) WHERE next_timer_at IS NOT NULL;
CREATE INDEX market_gigs_client ON market_gigs (client, posted_at DESC, id DESC);
CREATE INDEX market_gigs_worker ON market_gigs (worker, posted_at DESC, id DESC) WHERE worker IS NOT NULL;

-- Every transition, in order; (gig_id, seq) makes two writers of one position impossible.
CREATE TABLE market_history (
    gig_id     TEXT NOT NULL REFERENCES market_gigs (id),
    seq        BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    action     TEXT NOT NULL,
    PRIMARY KEY (gig_id, seq)
);

-- Title and description of the open gigs (a gig leaves when it stops being open).
CREATE VIRTUAL TABLE market_gigs_fts USING fts5 (gig_id UNINDEXED, title, description, tokenize = 'unicode61 remove_diacritics 2');

-- The first answer to a marketplace write sent with an Idempotency-Key, per caller.
CREATE TABLE market_idempotency (
    principal    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status       BIGINT NOT NULL,
    response     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (principal, key)
);
