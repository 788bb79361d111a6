//! The sync journal (SQLite): which site users the sync has taken charge of,
//! and each run's intended operations and outcomes. A run killed midway is
//! seen as unfinished by the next one, which plans again from the site and so
//! finishes the work without repeating a create.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

/// Why the journal could not be used.
#[derive(Debug, thiserror::Error)]
#[error("journal: {0}")]
pub struct JournalError(String);

fn err(e: impl std::fmt::Display) -> JournalError {
    JournalError(e.to_string())
}

/// An open journal.
pub struct Journal {
    db: Mutex<Connection>,
    run: i64,
    /// The run this one finishes, if the previous run did not end.
    pub resumed: Option<i64>,
}

impl Journal {
    /// Opens (or creates) the journal and starts a run.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let db = Connection::open(path).map_err(err)?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, finished INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE IF NOT EXISTS known (key TEXT PRIMARY KEY COLLATE NOCASE);
             CREATE TABLE IF NOT EXISTS ops (
                 run INTEGER NOT NULL, key TEXT NOT NULL COLLATE NOCASE, operation TEXT NOT NULL,
                 state TEXT NOT NULL, error TEXT, PRIMARY KEY (run, key));",
        )
        .map_err(err)?;
        let resumed: Option<i64> = db
            .query_row(
                "SELECT id FROM runs WHERE finished = 0 ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        db.execute("INSERT INTO runs (finished) VALUES (0)", [])
            .map_err(err)?;
        let run = db.last_insert_rowid();
        Ok(Journal {
            db: Mutex::new(db),
            run,
            resumed,
        })
    }

    /// Whether the sync has created or linked the user of this match key before.
    pub fn is_known(&self, key: &str) -> Result<bool, JournalError> {
        self.db
            .lock()
            .expect("journal lock")
            .query_row("SELECT 1 FROM known WHERE key = ?1", [key], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
            .map_err(err)
    }

    /// Records an operation about to be sent.
    pub fn intend(&self, key: &str, operation: &str) -> Result<(), JournalError> {
        self.db
            .lock()
            .expect("journal lock")
            .execute(
                "INSERT OR REPLACE INTO ops (run, key, operation, state) VALUES (?1, ?2, ?3, 'intended')",
                params![self.run, key, operation],
            )
            .map(|_| ())
            .map_err(err)
    }

    /// Records how it ended; a user created or linked becomes known.
    pub fn outcome(&self, key: &str, error: Option<&str>, known: bool) -> Result<(), JournalError> {
        let db = self.db.lock().expect("journal lock");
        db.execute(
            "UPDATE ops SET state = ?3, error = ?4 WHERE run = ?1 AND key = ?2",
            params![
                self.run,
                key,
                if error.is_some() { "failed" } else { "done" },
                error
            ],
        )
        .map_err(err)?;
        if known && error.is_none() {
            db.execute("INSERT OR IGNORE INTO known (key) VALUES (?1)", [key])
                .map_err(err)?;
        }
        Ok(())
    }

    /// Marks the run (and any run it resumed) finished.
    pub fn finish(&self) -> Result<(), JournalError> {
        self.db
            .lock()
            .expect("journal lock")
            .execute("UPDATE runs SET finished = 1 WHERE id <= ?1", [self.run])
            .map(|_| ())
            .map_err(err)
    }
}
