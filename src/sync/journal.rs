//! The sync journal (SQLite): which site users the sync has taken charge of
//! (the `people` table: source key → site webExId, email, userId, and a digest
//! of the attributes last applied), and each run's intended operations and
//! outcomes. A run killed midway is
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
    Locked {
        /// The journal file.
        path: PathBuf,
        /// Who holds it, as that run wrote it in the lock.
        holder: String,
    },
    /// The journal's database could not be read or written.
    #[error("journal: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// The journal file or its lock file could not be created, opened or written.
    #[error("journal: {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn err(e: rusqlite::Error) -> JournalError {
    JournalError::Sqlite(e)
}

/// The error of a file operation on `path`.
fn file_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::File {
        path: path.to_owned(),
        source,
    }
}

/// An open journal.
pub struct Journal {
    db: Mutex<Connection>,
    run: i64,
    /// The run this one finishes, if the previous run did not end.
    pub resumed: Option<i64>,
    /// Held for the journal's lifetime: the exclusive lock (none when the
    /// journal is only read, [`Journal::peek`]).
    _lock: Option<File>,
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
    crate::private_file::touch(&path).map_err(file_err(&path))?;
    let mut file = File::options()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(file_err(&path))?;
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
            return Err(file_err(&path)(e));
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
        .map_err(file_err(&path))?;
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

/// One person the sync has created or linked, as the journal remembers them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KnownPerson {
    /// The source key (the mapping's `key` column), or, without one, the
    /// match key's value (lower-cased webExId or email).
    pub key: String,
    /// The site user it names; absent in journals of the previous version,
    /// which kept only the key.
    pub web_ex_id: Option<String>,
    /// The person's email, when known.
    pub email: Option<String>,
    /// The site's userId, when GetUser or CreateUser gave it.
    pub user_id: Option<i64>,
    /// The digest of the desired attributes last applied successfully
    /// (`differ::digest`); absent: read the user again.
    pub digest: Option<String>,
}

/// Journals of the previous version kept one table `known (key)`: its keys
/// become people without a site user, and the table goes (one transaction).
fn migrate_known(db: &Connection) -> Result<(), JournalError> {
    let has_known: bool = db
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'known'",
            [],
            |_| Ok(()),
        )
        .optional()
        .map_err(err)?
        .is_some();
    if has_known {
        db.execute_batch(
            "BEGIN;
             INSERT OR IGNORE INTO people (key) SELECT key FROM known;
             DROP TABLE known;
             COMMIT;",
        )
        .map_err(err)?;
    }
    Ok(())
}

/// Upserts one person; any other key that named the same site user is
/// dropped, so that a site user belongs to one key.
fn remember(tx: &rusqlite::Transaction<'_>, person: &KnownPerson) -> Result<(), JournalError> {
    if let Some(w) = &person.web_ex_id {
        tx.execute(
            "DELETE FROM people WHERE web_ex_id = ?1 AND key <> ?2",
            params![w, person.key],
        )
        .map_err(err)?;
    }
    tx.execute(
        "INSERT INTO people (key, web_ex_id, email, user_id, digest) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (key) DO UPDATE SET web_ex_id = excluded.web_ex_id, email = excluded.email,
             user_id = COALESCE(excluded.user_id, people.user_id), digest = excluded.digest",
        params![
            person.key,
            person.web_ex_id,
            person.email,
            person.user_id,
            person.digest
        ],
    )
    .map(|_| ())
    .map_err(err)
}

impl Journal {
    /// Takes the journal's lock, opens (or creates, owner-only) the journal and
    /// starts a run.
    ///
    /// # Errors
    ///
    /// [`JournalError::Locked`] while another run holds it; [`JournalError::File`] when the
    /// file or its lock cannot be created, opened or written; [`JournalError::Sqlite`] when
    /// the database cannot be read or written.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let lock = lock(path)?;
        crate::private_file::touch(path).map_err(file_err(path))?;
        let db = Connection::open(path).map_err(err)?;
        // WAL with synchronous = NORMAL: a commit is a write to the WAL, not an
        // fsync (SQLite: "WAL mode is always consistent with synchronous=NORMAL";
        // https://www.sqlite.org/pragma.html#pragma_synchronous). A killed
        // process loses nothing it committed; a power loss may lose the last
        // commits, which is safe here because every run plans again from the
        // site (a user created but forgotten is found there and linked, never
        // created twice). With FULL, two fsyncs per user on the async workers
        // made the journal the bottleneck of a large sync (benches/sync.rs).
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, finished INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE IF NOT EXISTS people (
                 key TEXT PRIMARY KEY COLLATE NOCASE, web_ex_id TEXT COLLATE NOCASE,
                 email TEXT COLLATE NOCASE, user_id INTEGER, digest TEXT);
             CREATE TABLE IF NOT EXISTS ops (
                 run INTEGER NOT NULL, key TEXT NOT NULL COLLATE NOCASE, operation TEXT NOT NULL,
                 state TEXT NOT NULL, error TEXT, PRIMARY KEY (run, key));",
        )
        .map_err(err)?;
        migrate_known(&db)?;
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
            _lock: Some(lock),
        })
    }

    /// Opens a journal to read only (a dry run plans as the real run would,
    /// and writes nothing): no lock, no run. Where there is no journal yet,
    /// an empty one in memory: the run would start from an empty journal
    /// too. A journal of the previous version is read as it is.
    pub fn peek(path: &Path) -> Result<Journal, JournalError> {
        let db = if path.exists() {
            let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
            Connection::open_with_flags(path, flags).map_err(err)?
        } else {
            Connection::open_in_memory().map_err(err)?
        };
        Ok(Journal {
            db: Mutex::new(db),
            run: 0,
            resumed: None,
            _lock: None,
        })
    }

    /// Whether the sync has created or linked the person of this key before.
    pub fn is_known(&self, key: &str) -> Result<bool, JournalError> {
        self.db
            .lock()
            .expect("journal lock")
            .query_row("SELECT 1 FROM people WHERE key = ?1", [key], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
            .map_err(err)
    }

    /// Every person the journal knows (read once per plan).
    pub fn people(&self) -> Result<Vec<KnownPerson>, JournalError> {
        let db = self.db.lock().expect("journal lock");
        let has_people = db
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'people'",
                [],
                |_| Ok(()),
            )
            .optional()
            .map_err(err)?
            .is_some();
        let has_known = db
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'known'",
                [],
                |_| Ok(()),
            )
            .optional()
            .map_err(err)?
            .is_some();
        // A journal of the previous version, peeked at: its keys alone.
        let sql = match (has_people, has_known) {
            (true, _) => "SELECT key, web_ex_id, email, user_id, digest FROM people",
            (false, true) => "SELECT key, NULL, NULL, NULL, NULL FROM known",
            (false, false) => return Ok(Vec::new()),
        };
        let mut query = db.prepare(sql).map_err(err)?;
        let rows = query
            .query_map([], |r| {
                Ok(KnownPerson {
                    key: r.get(0)?,
                    web_ex_id: r.get(1)?,
                    email: r.get(2)?,
                    user_id: r.get(3)?,
                    digest: r.get(4)?,
                })
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// Remembers people whose state the run confirmed without writing
    /// (unchanged, linked as they were): one transaction.
    pub fn remember_all(&self, people: &[KnownPerson]) -> Result<(), JournalError> {
        let mut db = self.db.lock().expect("journal lock");
        let tx = db.transaction().map_err(err)?;
        for person in people {
            remember(&tx, person)?;
        }
        tx.commit().map_err(err)
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

    /// Records how it ended; on success, `person` (when given) is remembered
    /// as it now is. One transaction: an operation is never `done` without
    /// its person known.
    pub fn outcome(
        &self,
        key: &str,
        error: Option<&str>,
        person: Option<&KnownPerson>,
    ) -> Result<(), JournalError> {
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
        if let (Some(person), None) = (person, error) {
            remember(&tx, person)?;
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
                "CREATE TRIGGER refuse BEFORE INSERT ON people
                 BEGIN SELECT RAISE(ABORT, 'refused for the test'); END;",
            )
            .unwrap();
        let alice = KnownPerson {
            key: "alice".into(),
            web_ex_id: Some("alice".into()),
            ..KnownPerson::default()
        };
        assert!(j.outcome("alice", None, Some(&alice)).is_err());
        assert_eq!(state(&j, "alice"), "intended");
        assert!(!j.is_known("alice").unwrap());

        j.db.lock()
            .unwrap()
            .execute_batch("DROP TRIGGER refuse;")
            .unwrap();
        j.outcome("alice", None, Some(&alice)).unwrap();
        assert_eq!(state(&j, "alice"), "done");
        assert!(j.is_known("alice").unwrap());
    }

    /// A journal of the previous version (table `known`) opens: its keys
    /// become known people, without a site user.
    #[test]
    fn a_journal_of_the_previous_version_opens() {
        let dir = std::env::temp_dir().join(format!("wbxprov-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old.sqlite");
        let _ = std::fs::remove_file(&path);
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, finished INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE known (key TEXT PRIMARY KEY COLLATE NOCASE);
             INSERT INTO known VALUES ('klee@example.com');",
        )
        .unwrap();
        drop(old);
        let j = Journal::open(&path).unwrap();
        assert!(j.is_known("KLEE@example.com").unwrap());
        let people = j.people().unwrap();
        assert_eq!(people.len(), 1);
        assert_eq!(people[0].web_ex_id, None);
        drop(j);
        // Opening it again (now migrated) keeps it.
        assert!(
            Journal::open(&path)
                .unwrap()
                .is_known("klee@example.com")
                .unwrap()
        );
    }

    /// A site user belongs to one key: remembering it under a new key drops
    /// the old one (an unkeyed journal's key follows the email).
    #[test]
    fn a_site_user_belongs_to_one_key() {
        let (j, _) = journal("one-key.sqlite");
        let person = |key: &str| KnownPerson {
            key: key.into(),
            web_ex_id: Some("klee".into()),
            digest: Some("1".into()),
            ..KnownPerson::default()
        };
        j.remember_all(&[person("paul.klee@example.com")]).unwrap();
        j.remember_all(&[person("paul.smithson@example.com")])
            .unwrap();
        let keys: Vec<String> = j.people().unwrap().into_iter().map(|p| p.key).collect();
        assert_eq!(keys, ["paul.smithson@example.com"]);
    }
}
