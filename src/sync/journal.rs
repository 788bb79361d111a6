//! The sync journal (SQLite): which site users the sync has taken charge of,
//! and each run's intended operations and outcomes. A run killed midway is
//! seen as unfinished by the next one, which plans again from the site and so
//! finishes the work without repeating a create.
//!
//! One run at a time: the journal is held with an exclusive OS lock on a file
//! beside it (`<journal>.lock`), which says who holds it. The OS drops the lock
//! when the process ends, however it ends (kill -9 included).

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

/// Why the journal could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// Another run holds the journal.
    #[error("journal in use by another run ({holder}); wait for it to finish")]
    Locked { path: PathBuf, holder: String },
    /// The journal file or its lock could not be read or written.
    #[error("journal: {0}")]
    Storage(String),
}

fn err(e: impl std::fmt::Display) -> JournalError {
    JournalError::Storage(e.to_string())
}

/// An open journal.
pub struct Journal {
    db: Mutex<Connection>,
    run: i64,
    /// The run this one finishes, if the previous run did not end.
    pub resumed: Option<i64>,
    /// Held for the journal's lifetime: the exclusive lock.
    _lock: File,
}

/// The lock file beside `journal`.
fn lock_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the journal's lock, or says who holds it. The lock file (owner-only)
/// names this process, its host and when it started.
fn lock(journal: &Path) -> Result<File, JournalError> {
    let path = lock_path(journal);
    crate::private_file::touch(&path).map_err(|e| err(format!("{}: {e}", path.display())))?;
    let mut file = File::options()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| err(format!("{}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(JournalError::Locked {
                path: journal.to_owned(),
                holder: if holder.is_empty() {
                    "a run that has not said who it is yet".into()
                } else {
                    holder.to_owned()
                },
            });
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(err(format!("{}: {e}", path.display())));
        }
    }
    let who = format!(
        "pid {} on {}, started {}",
        std::process::id(),
        host_name(),
        crate::civil::Utc::now().rfc3339()
    );
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(who.as_bytes()))
        .map_err(|e| err(format!("{}: {e}", path.display())))?;
    Ok(file)
}

/// This machine's name, as far as the platform tells it without a dependency.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".into())
}

impl Journal {
    /// Takes the journal's lock, opens (or creates, owner-only) the journal and
    /// starts a run.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let lock = lock(path)?;
        crate::private_file::touch(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
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
            _lock: lock,
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

    /// Records how it ended; a user created or linked becomes known. One
    /// transaction: an operation is never `done` without its user known.
    pub fn outcome(&self, key: &str, error: Option<&str>, known: bool) -> Result<(), JournalError> {
        let mut db = self.db.lock().expect("journal lock");
        let tx = db.transaction().map_err(err)?;
        tx.execute(
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
            tx.execute("INSERT OR IGNORE INTO known (key) VALUES (?1)", [key])
                .map_err(err)?;
        }
        tx.commit().map_err(err)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(name: &str) -> (Journal, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("wbxprov-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let _ = std::fs::remove_file(&path);
        (Journal::open(&path).unwrap(), path)
    }

    fn state(j: &Journal, key: &str) -> String {
        j.db.lock()
            .unwrap()
            .query_row(
                "SELECT state FROM ops WHERE run = ?1 AND key = ?2",
                params![j.run, key],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Issue 15 item 10: an outcome is one transaction. When making the user
    /// known fails, the operation is not left `done` either (a kill between
    /// the two statements used to leave it so).
    #[test]
    fn an_outcome_is_all_or_nothing() {
        let (j, _) = journal("outcome.sqlite");
        j.intend("alice", "create").unwrap();
        j.db.lock()
            .unwrap()
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON known
                 BEGIN SELECT RAISE(ABORT, 'refused for the test'); END;",
            )
            .unwrap();
        assert!(j.outcome("alice", None, true).is_err());
        assert_eq!(state(&j, "alice"), "intended");
        assert!(!j.is_known("alice").unwrap());

        j.db.lock()
            .unwrap()
            .execute_batch("DROP TRIGGER refuse;")
            .unwrap();
        j.outcome("alice", None, true).unwrap();
        assert_eq!(state(&j, "alice"), "done");
        assert!(j.is_known("alice").unwrap());
    }
}
