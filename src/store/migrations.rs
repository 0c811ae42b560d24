//! The schema, as append-only migrations. Never edit a released migration: add a new one.

use rusqlite_migration::{M, Migrations};

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            r#"
CREATE TABLE reports (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    broker       TEXT NOT NULL,
    report_date  TEXT NOT NULL,
    rating       TEXT NOT NULL CHECK (rating IN ('overweight', 'neutral', 'underweight')),
    -- the validated rule as JSON (benchmark, horizon, thresholds in bp, labels)
    rule         TEXT NOT NULL,
    -- FX pairs as a JSON array of symbols
    fx           TEXT NOT NULL,
    -- hash of the definition file's content, so an unchanged file is a no-op
    content_hash TEXT NOT NULL,
    loaded_at    TEXT NOT NULL
);

CREATE TABLE securities (
    symbol     TEXT PRIMARY KEY,
    market     TEXT NOT NULL CHECK (market IN ('SH', 'SZ', 'HK', 'US', 'FX')),
    currency   TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('stock', 'index', 'fx')),
    name       TEXT,
    name_en    TEXT,
    listed_on  TEXT,
    -- the one adjusted series: its basis (see prices::AdjBasis) and source provider
    adj_basis  TEXT,
    adj_source TEXT
) WITHOUT ROWID;

CREATE TABLE companies (
    report_id TEXT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    symbol    TEXT NOT NULL REFERENCES securities(symbol),
    name      TEXT NOT NULL,
    name_en   TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (report_id, symbol)
) WITHOUT ROWID;

CREATE TABLE alternates (
    report_id TEXT NOT NULL,
    symbol    TEXT NOT NULL,
    alternate TEXT NOT NULL,
    PRIMARY KEY (report_id, alternate),
    FOREIGN KEY (report_id, symbol) REFERENCES companies(report_id, symbol) ON DELETE CASCADE
);  -- a rowid table: sqlite3 3.40's integrity_check misreports this one as WITHOUT ROWID

CREATE TABLE sectors (
    report_id TEXT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    name_en   TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (report_id, name)
) WITHOUT ROWID;

CREATE TABLE memberships (
    report_id TEXT NOT NULL,
    sector    TEXT NOT NULL,
    symbol    TEXT NOT NULL,
    -- sub-group tags as a JSON array of strings
    tags      TEXT NOT NULL DEFAULT '[]',
    position  INTEGER NOT NULL,
    PRIMARY KEY (report_id, sector, symbol),
    FOREIGN KEY (report_id, sector) REFERENCES sectors(report_id, name) ON DELETE CASCADE,
    FOREIGN KEY (report_id, symbol) REFERENCES companies(report_id, symbol) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE daily_bars (
    symbol     TEXT NOT NULL REFERENCES securities(symbol),
    date       TEXT NOT NULL,
    open       REAL,
    high       REAL,
    low        REAL,
    close      REAL NOT NULL CHECK (close > 0),
    volume     REAL,
    adj_close  REAL NOT NULL CHECK (adj_close > 0),
    adj_basis  TEXT NOT NULL,
    source     TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (symbol, date)
) WITHOUT ROWID;

CREATE TABLE fx_rates (
    pair       TEXT NOT NULL REFERENCES securities(symbol),
    date       TEXT NOT NULL,
    rate       REAL NOT NULL CHECK (rate > 0),
    source     TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (pair, date)
) WITHOUT ROWID;

CREATE TABLE sync_runs (
    id                 INTEGER PRIMARY KEY,
    started_at         TEXT NOT NULL,
    finished_at        TEXT,
    trigger            TEXT NOT NULL,
    symbols_requested  INTEGER NOT NULL DEFAULT 0,
    securities_updated INTEGER NOT NULL DEFAULT 0,
    bars_written       INTEGER NOT NULL DEFAULT 0,
    failures           INTEGER NOT NULL DEFAULT 0,
    outcome            TEXT NOT NULL DEFAULT 'running'
        CHECK (outcome IN ('running', 'ok', 'partial', 'failed', 'interrupted'))
);

CREATE TABLE sync_failures (
    run_id   INTEGER NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
    symbol   TEXT NOT NULL,
    provider TEXT,
    reason   TEXT NOT NULL
);

CREATE TABLE job_runs (
    id            INTEGER PRIMARY KEY,
    job           TEXT NOT NULL,
    scheduled_for TEXT,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    outcome       TEXT NOT NULL DEFAULT 'running'
        CHECK (outcome IN ('running', 'ok', 'failed', 'skipped', 'cancelled')),
    -- job-specific counts as JSON (bars written, files written, …)
    counts        TEXT NOT NULL DEFAULT '{}',
    error         TEXT
);
CREATE INDEX job_runs_by_job ON job_runs (job, started_at);

CREATE TABLE weekly_summaries (
    report_id  TEXT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    week       TEXT NOT NULL,
    as_of      TEXT NOT NULL,
    written_at TEXT NOT NULL,
    -- output files as a JSON array of paths
    files      TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (report_id, week)
) WITHOUT ROWID;
"#,
        ),
        // 2: the security master (ratingwatch instruments sync/import), for name resolution.
        M::up(
            r#"
CREATE TABLE instruments (
    symbol     TEXT PRIMARY KEY,
    market     TEXT NOT NULL CHECK (market IN ('SH', 'SZ', 'HK', 'US')),
    name       TEXT NOT NULL,
    name_en    TEXT,
    kind       TEXT NOT NULL CHECK (kind IN ('stock', 'index', 'fund', 'etf')),
    status     TEXT NOT NULL CHECK (status IN ('listed', 'suspended', 'delisted')),
    -- where the row came from: 'eastmoney', 'tencent', 'import'
    source     TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX instruments_by_name ON instruments (name);
"#,
        ),
        // 3: sticky providers (failing runs per security and provider) and why a run fell back.
        M::up(
            r#"
-- A security sticks with the provider of its stored series; this counts the consecutive
-- runs in which that provider failed it, so sync switches only after `sync.switch_after_runs`.
CREATE TABLE provider_streaks (
    symbol      TEXT NOT NULL,
    provider    TEXT NOT NULL,
    failed_runs INTEGER NOT NULL CHECK (failed_runs > 0),
    last_run_id INTEGER NOT NULL,
    last_reason TEXT NOT NULL,
    PRIMARY KEY (symbol, provider)
) WITHOUT ROWID;

-- `failed`: not synced; `deferred`: left for the next run with its provider kept;
-- `fell_back`: synced from a later provider of the chain, this one having failed.
ALTER TABLE sync_failures ADD COLUMN kind TEXT NOT NULL DEFAULT 'failed';
"#,
        ),
        // 4: the process that started a run, so any command can tell a run whose process was
        // killed (its pid is gone) from one still going.
        M::up(
            r#"
ALTER TABLE sync_runs ADD COLUMN pid INTEGER;
ALTER TABLE job_runs ADD COLUMN pid INTEGER;
"#,
        ),
        // 5: rules with any number of bands: the report's rating as the index of its band in the
        // rule (0 = top). `rating` keeps the coarse class its CHECK allows; rows written
        // before this migration have no band and are three-tier.
        M::up("ALTER TABLE reports ADD COLUMN rating_band INTEGER;"),
        // 6: the notification outbox: one row per event and channel, every attempt, and what has
        // been announced (rating bands, data-health conditions).
        M::up(
            r#"
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    -- `<event>:<subject…>:<channel>`: the same event on the same channel is one row
    dedup_key       TEXT NOT NULL UNIQUE,
    channel         TEXT NOT NULL,
    event           TEXT NOT NULL,
    report_id       TEXT,
    title           TEXT NOT NULL,
    -- the whole message as JSON (notify::Message), decided when the event happened
    payload         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'expired')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- parts already accepted by the platform (a long message is split): never re-sent
    parts_sent      INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    finished_at     TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE outbox_attempts (
    message_id  INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    part        INTEGER NOT NULL,
    at          TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('accepted', 'retry', 'permanent')),
    http_status INTEGER,
    detail      TEXT NOT NULL,
    PRIMARY KEY (message_id, attempt)
) WITHOUT ROWID;

CREATE TABLE announcements (
    -- `rating:<report>:<group>` → the last announced band; `health:<condition>` → 'problem'/'ok'
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
"#,
        ),
        // 7: every security's adjusted closes packed per calendar year (see store/chunks.rs),
        // derived from daily_bars and rewritten in the same transaction as every write to it;
        // the hook packs the bars stored before this migration.
        M::up_with_hook(
            r#"
CREATE TABLE close_chunks (
    symbol    TEXT NOT NULL REFERENCES securities(symbol),
    year      INTEGER NOT NULL,
    -- the first point's date, days since 1970-01-01
    first_day INTEGER NOT NULL,
    -- (days since 1970-01-01 as i32 LE, adj_close as f64 LE) per stored bar, by date
    points    BLOB NOT NULL,
    PRIMARY KEY (symbol, year)
);  -- a rowid table: in a WITHOUT ROWID table a row is its own key, and a seek reads the
    -- whole ~3 KB of every row it compares (overflow pages included)
"#,
            super::chunks::build_all,
        ),
        // 8: the ratings feed (Eastmoney's report list): one row per report, keyed by its
        // infoCode, so a re-sync updates and never duplicates.
        M::up(
            r#"
CREATE TABLE ratings (
    info_code        TEXT PRIMARY KEY,
    symbol           TEXT NOT NULL,
    name             TEXT NOT NULL,
    -- orgSName and orgName
    broker           TEXT NOT NULL,
    broker_full      TEXT NOT NULL,
    analysts         TEXT NOT NULL,
    publish_date     TEXT NOT NULL,
    -- the broker's own word (sRatingName); Eastmoney's normalised word and value
    rating           TEXT NOT NULL,
    normalized       TEXT,
    normalized_value INTEGER,
    previous         TEXT,
    previous_value   INTEGER,
    change           TEXT NOT NULL CHECK (change IN ('first_coverage', 'up', 'down', 'maintained')),
    target_price     REAL,
    title            TEXT NOT NULL,
    pdf_url          TEXT NOT NULL,
    fetched_at       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX ratings_by_symbol ON ratings (symbol, publish_date);
"#,
        ),
        // 9: ratings as a rowid table with a unique info code. Rows of a few hundred bytes in
        // a WITHOUT ROWID table clustered by the (date-ordered) info code put each company's
        // reports on a different leaf each, so every company's write rewrote ~20 wide pages;
        // appended by rowid they share the last page, and only the narrow index is scattered.
        M::up(
            r#"
CREATE TABLE ratings_rowid (
    info_code        TEXT NOT NULL UNIQUE,
    symbol           TEXT NOT NULL,
    name             TEXT NOT NULL,
    broker           TEXT NOT NULL,
    broker_full      TEXT NOT NULL,
    analysts         TEXT NOT NULL,
    publish_date     TEXT NOT NULL,
    rating           TEXT NOT NULL,
    normalized       TEXT,
    normalized_value INTEGER,
    previous         TEXT,
    previous_value   INTEGER,
    change           TEXT NOT NULL CHECK (change IN ('first_coverage', 'up', 'down', 'maintained')),
    target_price     REAL,
    title            TEXT NOT NULL,
    pdf_url          TEXT NOT NULL,
    fetched_at       TEXT NOT NULL
);
INSERT INTO ratings_rowid SELECT info_code, symbol, name, broker, broker_full, analysts, publish_date, rating, normalized,
    normalized_value, previous, previous_value, change, target_price, title, pdf_url, fetched_at FROM ratings ORDER BY symbol, publish_date;
DROP TABLE ratings;
ALTER TABLE ratings_rowid RENAME TO ratings;
CREATE INDEX ratings_by_symbol ON ratings (symbol, publish_date);
"#,
        ),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }

    /// Migration 9 rebuilds `ratings` as a rowid table: a database with ratings stored under
    /// migration 8 keeps every row and column, and the info code stays unique.
    #[test]
    fn the_ratings_table_keeps_its_rows_across_migration_9() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut conn, 8).unwrap();
        conn.execute(
            "INSERT INTO ratings VALUES ('AP1', '600941.SH', '中国移动', '国泰君安', '国泰君安证券', 'A', '2023-04-21', '增持', '买入', 1, '增持', 2,              'up', 120.5, 't', 'https://pdf.example/1.pdf', '2023-04-21T08:00:00Z')",
            [],
        )
        .unwrap();
        super::migrations().to_latest(&mut conn).unwrap();
        let row: (String, String, String, Option<f64>, String) = conn
            .query_row("SELECT info_code, symbol, change, target_price, fetched_at FROM ratings", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap();
        assert_eq!(row, ("AP1".into(), "600941.SH".into(), "up".into(), Some(120.5), "2023-04-21T08:00:00Z".into()));
        let duplicate = conn.execute("INSERT INTO ratings SELECT * FROM ratings", []);
        assert!(duplicate.is_err(), "info_code is unique");
        let without_rowid: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema WHERE name = 'ratings' AND sql LIKE '%WITHOUT ROWID%'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(without_rowid, 0);
    }
}
