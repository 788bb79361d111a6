//! SCIM ids and externalIds, kept in SQLite: a Meetings site has neither.
//!
//! A SCIM id names a site user (by Webex ID) for as long as the identity
//! provider knows it; a rename keeps the id. DELETE leaves a tombstone: the
//! site user is deactivated (the XML API cannot delete), and the SCIM id
//! answers 404 from then on, as RFC 7644 §3.6 asks.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use crate::ops::UserSummary;

/// What the store knows of one SCIM User.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The SCIM id: random, stable across restarts when the store is a file.
    pub id: String,
    /// The site user the id stands for.
    pub web_ex_id: String,
    /// `externalId`, when a SCIM client set one.
    pub external_id: Option<String>,
    /// The displayName a SCIM client set: `None` never set (the names
    /// stand in), `Some("")` removed.
    pub display_name: Option<String>,
    /// When a SCIM client last changed the user (RFC 3339), if ever.
    pub last_modified: Option<String>,
    /// Deleted through SCIM: hidden from SCIM (the site user is deactivated, not removed).
    pub deleted: bool,
    /// What wbxprov keeps of the user that the site cannot (JSON of
    /// [`super::translate::Kept`]), if anything.
    pub kept: Option<String>,
}

/// Why the SCIM id store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A SQLite error.
    #[error("SCIM id store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The state file could not be created owner-only.
    #[error("SCIM id store {}: {source}", path.display())]
    File {
        /// The state file.
        path: std::path::PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// The SCIM front's state: SCIM ids of users and groups, what the site cannot hold, group
/// memberships. In SQLite, in memory or in an owner-only file.
pub struct IdStore {
    db: Mutex<Connection>,
    /// While the index of the site's users is rebuilt: the front's own
    /// writes to it since the rebuild began, replayed onto the rebuilt index
    /// when it is swapped in (its listing may predate them).
    rebuild_journal: Mutex<Option<Vec<IndexWrite>>>,
}

/// One write of the front to the index: a user as listed, and the webExId
/// it had before a rename.
type IndexWrite = (UserSummary, Option<String>);

/// A rebuild of the index under way ([`IdStore::begin_rebuild`]): the
/// table it fills, swapped in by [`IdStore::finish_rebuild`].
#[derive(Debug)]
#[must_use = "a rebuild is finished or abandoned"]
pub struct Rebuild {
    /// A suffix for the new table's index names, unique in the file (the
    /// old table's indexes live until the swap drops them).
    suffix: String,
}

impl std::fmt::Debug for IdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdStore")
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scim_users (
    id          TEXT PRIMARY KEY,
    web_ex_id   TEXT NOT NULL COLLATE NOCASE,
    external_id TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    display_name  TEXT,
    last_modified TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS scim_users_live ON scim_users (web_ex_id) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS scim_users_external ON scim_users (external_id);
CREATE INDEX IF NOT EXISTS scim_users_web_ex_id ON scim_users (web_ex_id);
-- The index of the site's users (issue 21): what LstsummaryUser lists, by the lowercased
-- webExId (the order lists page in), so lists and filters on these fields need no site call.
-- Rebuilt by paging LstsummaryUser, kept in step with the front's own writes (scim::service).
CREATE TABLE IF NOT EXISTS site_users (
    key               TEXT PRIMARY KEY,
    web_ex_id         TEXT NOT NULL,
    first_name        TEXT,
    last_name         TEXT,
    email             TEXT,
    registration_date TEXT,
    active            TEXT,
    time_zone_id      INTEGER,
    -- Lowercased as Rust lowercases (SQLite's lower() folds ASCII only), for filters.
    email_key         TEXT,
    first_name_key    TEXT,
    last_name_key     TEXT
) WITHOUT ROWID;
-- Every rebuild makes the table anew, with indexes on the lowercased columns
-- (NEXT_TABLE): `sw` on them is a range of an index, `eq` a seek.
-- When the index of the site's users was last swapped in (`index_built_at`:
-- Unix seconds), so a front started again on this state answers from it.
CREATE TABLE IF NOT EXISTS scim_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- What a site has no place for (middleName, nickName, enterprise attributes, sent values
-- of translated attributes), by SCIM id: scim::translate::Kept as JSON.
CREATE TABLE IF NOT EXISTS scim_kept (
    id   TEXT PRIMARY KEY,
    kept TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scim_groups (
    id            TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    external_id   TEXT,
    created       TEXT NOT NULL,
    last_modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scim_group_members (
    group_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX IF NOT EXISTS scim_group_members_user ON scim_group_members (user_id);
-- What group membership granted a user (and nothing else did): only this is
-- taken back when the user leaves the last group granting it.
CREATE TABLE IF NOT EXISTS scim_grants (
    user_id   TEXT NOT NULL,
    attribute TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (user_id, attribute, value)
);
";

/// What the store knows of one SCIM Group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// The SCIM id.
    pub id: String,
    /// `displayName`: what the configuration's grants are keyed by.
    pub display_name: String,
    /// `externalId`, when a SCIM client set one.
    pub external_id: Option<String>,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339.
    pub last_modified: String,
    /// The SCIM ids of its members that are live Users, with their Webex IDs.
    pub members: Vec<(String, String)>,
}

/// One thing group membership granted a user: a catalogue attribute (flat
/// name) and one value of it (`true`, or one item of a list).
pub type Grant = (String, String);

fn entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: row.get(0)?,
        web_ex_id: row.get(1)?,
        external_id: row.get(2)?,
        deleted: row.get(3)?,
        display_name: row.get(4)?,
        last_modified: row.get(5)?,
        kept: row.get(6)?,
    })
}

const COLUMNS: &str = "id, web_ex_id, external_id, deleted, display_name, last_modified, \
    (SELECT kept FROM scim_kept WHERE scim_kept.id = scim_users.id)";

/// Now, as RFC 3339 UTC (`2026-11-23T15:01:07Z`).
pub fn now_rfc3339() -> String {
    crate::civil::Utc::now().rfc3339()
}

/// A fresh SCIM id: a random (version 4) UUID, RFC 9562 §5.4, from the OS CSPRNG.
fn new_id() -> String {
    let mut b = [0u8; 16];
    crate::client::random_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // variant 10xx
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

impl IdStore {
    /// A store in `path` (created if missing, owner-only: it names every
    /// user the identity provider manages), or in memory with `None`.
    pub fn open(path: Option<&Path>) -> Result<Self, StoreError> {
        let db = match path {
            Some(p) => {
                crate::private_file::touch(p).map_err(|source| StoreError::File {
                    path: p.to_owned(),
                    source,
                })?;
                Connection::open(p)?
            }
            None => Connection::open_in_memory()?,
        };
        db.execute_batch(SCHEMA)?;
        // Files from before these columns: add them (an error means they exist).
        for column in ["display_name", "last_modified"] {
            let _ = db.execute(
                &format!("ALTER TABLE scim_users ADD COLUMN {column} TEXT"),
                [],
            );
        }
        Ok(IdStore {
            db: Mutex::new(db),
            rebuild_journal: Mutex::new(None),
        })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic elsewhere cannot leave a half-written row: SQLite statements are atomic.
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The user with SCIM id `id`, deleted ones included.
    pub fn by_id(&self, id: &str) -> Result<Option<Entry>, StoreError> {
        Ok(self
            .db()
            .query_row(
                &format!("SELECT {COLUMNS} FROM scim_users WHERE id = ?1"),
                [id],
                entry,
            )
            .optional()?)
    }

    /// Live entries with this externalId (exact, as identity providers send it).
    pub fn by_external_id(&self, external_id: &str) -> Result<Vec<Entry>, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare(&format!(
            "SELECT {COLUMNS} FROM scim_users WHERE external_id = ?1 AND deleted = 0"
        ))?;
        let rows = stmt.query_map([external_id], entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether the SCIM view hides this Webex ID: deleted through SCIM and
    /// not created again since.
    pub fn is_deleted(&self, web_ex_id: &str) -> Result<bool, StoreError> {
        let least: Option<bool> = self.db().query_row(
            "SELECT MIN(deleted) FROM scim_users WHERE web_ex_id = ?1",
            [web_ex_id],
            |r| r.get(0),
        )?;
        Ok(least == Some(true))
    }

    /// The live entries of site users, by lowercased Webex ID, made for those
    /// seen for the first time (in one transaction); users deleted through
    /// SCIM get none.
    pub fn entries_for(&self, web_ex_ids: &[&str]) -> Result<HashMap<String, Entry>, StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let mut out = HashMap::with_capacity(web_ex_ids.len());
        {
            // One indexed lookup per name: a filter on one userName costs one.
            let mut rows = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM scim_users WHERE web_ex_id = ?1"
            ))?;
            for web_ex_id in web_ex_ids {
                let key = web_ex_id.to_lowercase();
                if out.contains_key(&key) {
                    continue;
                }
                let found: Vec<Entry> = rows
                    .query_map([web_ex_id], entry)?
                    .collect::<Result<_, _>>()?;
                match found.iter().find(|e| !e.deleted) {
                    Some(live) => {
                        out.insert(key, live.clone());
                    }
                    // Deleted through SCIM: no entry.
                    None if !found.is_empty() => {}
                    None => {
                        let e = Entry {
                            id: new_id(),
                            web_ex_id: (*web_ex_id).to_owned(),
                            external_id: None,
                            display_name: None,
                            last_modified: None,
                            deleted: false,
                            kept: None,
                        };
                        tx.execute(
                            "INSERT INTO scim_users (id, web_ex_id) VALUES (?1, ?2)",
                            params![e.id, e.web_ex_id],
                        )?;
                        out.insert(key, e);
                    }
                }
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// A new live entry (after a POST).
    pub fn insert(
        &self,
        web_ex_id: &str,
        external_id: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<Entry, StoreError> {
        let entry = Entry {
            id: new_id(),
            web_ex_id: web_ex_id.to_owned(),
            external_id: external_id.map(str::to_owned),
            display_name: display_name.map(str::to_owned),
            last_modified: Some(now_rfc3339()),
            deleted: false,
            kept: None,
        };
        self.db().execute(
            "INSERT INTO scim_users (id, web_ex_id, external_id, display_name, last_modified) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                entry.id,
                entry.web_ex_id,
                entry.external_id,
                entry.display_name,
                entry.last_modified
            ],
        )?;
        Ok(entry)
    }

    /// What a SCIM client changed: the externalId and displayName it holds
    /// now; the time of the change.
    pub fn record_change(
        &self,
        id: &str,
        external_id: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<(), StoreError> {
        self.db().execute(
            "UPDATE scim_users SET external_id = ?2, display_name = ?3, last_modified = ?4 \
             WHERE id = ?1",
            params![id, external_id, display_name, now_rfc3339()],
        )?;
        Ok(())
    }

    /// Replaces what is kept for a SCIM id (`None`: nothing).
    pub fn set_kept(&self, id: &str, kept: Option<&str>) -> Result<(), StoreError> {
        let db = self.db();
        match kept {
            Some(k) => db.execute(
                "INSERT INTO scim_kept (id, kept) VALUES (?1, ?2) \
                 ON CONFLICT (id) DO UPDATE SET kept = excluded.kept",
                params![id, k],
            )?,
            None => db.execute("DELETE FROM scim_kept WHERE id = ?1", [id])?,
        };
        Ok(())
    }

    /// Points SCIM id `id` at a renamed site user.
    pub fn rename(&self, id: &str, web_ex_id: &str) -> Result<(), StoreError> {
        self.db().execute(
            "UPDATE scim_users SET web_ex_id = ?2 WHERE id = ?1",
            params![id, web_ex_id],
        )?;
        Ok(())
    }

    /// Deleted through SCIM: hidden, and out of the index of the site's users.
    pub fn mark_deleted(&self, id: &str) -> Result<(), StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let web_ex_id: Option<String> = tx
            .query_row(
                "SELECT web_ex_id FROM scim_users WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        tx.execute("UPDATE scim_users SET deleted = 1 WHERE id = ?1", [id])?;
        if let Some(w) = web_ex_id {
            tx.execute("DELETE FROM site_users WHERE key = ?1", [w.to_lowercase()])?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// A field of the index a filter may compare, as the SCIM User shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexedField {
    /// `userName` (the webExId).
    UserName,
    /// `emails.value` (the email).
    Email,
    /// `name.givenName` (firstName).
    GivenName,
    /// `name.familyName` (lastName).
    FamilyName,
}

/// How an indexed field compares with a value: SCIM's `eq`, `sw`, `co`, `ew`
/// on strings, without case (both sides lowercased by Rust's
/// `to_lowercase`, as `scim::filter` does; SQLite's `lower` folds ASCII only,
/// so the lowercased forms are stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexOp {
    /// Equal.
    Eq,
    /// Starts with.
    StartsWith,
    /// Contains.
    Contains,
    /// Ends with.
    EndsWith,
}

/// Which indexed users a list reads: all, or those whose field compares so
/// with a value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexNarrowing {
    /// Every indexed user.
    All,
    /// Users whose field compares so with the (lowercased) value.
    Compare(IndexedField, IndexOp, String),
}

/// Webex IDs hidden from SCIM (deleted through SCIM and not created again),
/// as written: the index leaves them out.
const HIDDEN: &str = "SELECT web_ex_id FROM scim_users GROUP BY web_ex_id HAVING MIN(deleted) = 1";

const INDEX_COLUMNS: &str =
    "web_ex_id, first_name, last_name, email, registration_date, active, time_zone_id";

fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<UserSummary> {
    Ok(UserSummary {
        web_ex_id: row.get(0)?,
        first_name: row.get(1)?,
        last_name: row.get(2)?,
        email: row.get(3)?,
        registration_date: row.get(4)?,
        active: row.get(5)?,
        time_zone_id: row.get(6)?,
    })
}

impl IndexNarrowing {
    /// The SQL condition and its one parameter, if any, over the stored
    /// lowercased forms. A prefix is a range of the column's index (a
    /// search, not a scan): every string starting with `p` sorts between
    /// `p` and `p` followed by U+10FFFF. `co` and `ew` are `LIKE` with the
    /// value's `%`, `_` and `\` escaped, so they match only themselves;
    /// LIKE folds ASCII case, which changes nothing on lowercased text.
    fn condition(&self) -> (String, Option<String>) {
        let IndexNarrowing::Compare(field, op, value) = self else {
            return ("1".into(), None);
        };
        let column = match field {
            IndexedField::UserName => "key",
            IndexedField::Email => "email_key",
            IndexedField::GivenName => "first_name_key",
            IndexedField::FamilyName => "last_name_key",
        };
        let value = value.to_lowercase();
        match op {
            IndexOp::Eq => (format!("{column} = ?1"), Some(value)),
            IndexOp::StartsWith => (
                format!("{column} >= ?1 AND {column} < ?1 || char(1114111)"),
                Some(value),
            ),
            IndexOp::Contains => (
                format!("{column} LIKE ?1 ESCAPE '\\'"),
                Some(format!("%{}%", like_escaped(&value))),
            ),
            IndexOp::EndsWith => (
                format!("{column} LIKE ?1 ESCAPE '\\'"),
                Some(format!("%{}", like_escaped(&value))),
            ),
        }
    }
}

/// `text` as a LIKE pattern matching only itself (escape character `\`).
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The index of the site's users.
impl IdStore {
    /// Replaces the index with `users` (one whole listing).
    pub fn replace_index(&self, users: &[UserSummary]) -> Result<(), StoreError> {
        let rebuild = self.begin_rebuild()?;
        self.finish_rebuild(rebuild, users)
    }

    /// Starts a rebuild of the index: an empty table beside it, and a
    /// journal of the front's writes from now on. The index keeps
    /// answering until [`IdStore::finish_rebuild`] swaps the new one in.
    pub fn begin_rebuild(&self) -> Result<Rebuild, StoreError> {
        let suffix = format!("{:016x}", crate::client::random_u64());
        let db = self.db();
        // A table left by a process that stopped mid-rebuild goes first.
        db.execute_batch(&format!(
            "DROP TABLE IF EXISTS site_users_next; {}",
            NEXT_TABLE.replace("{suffix}", &suffix)
        ))?;
        *self.journal() = Some(Vec::new());
        Ok(Rebuild { suffix })
    }

    /// Fills the new table with `users` (one whole listing), a chunk per
    /// transaction so other requests use the store in between, then swaps
    /// it in: users hidden from SCIM left out, the writes journaled since
    /// [`IdStore::begin_rebuild`] replayed, in one short transaction.
    pub fn finish_rebuild(
        &self,
        rebuild: Rebuild,
        users: &[UserSummary],
    ) -> Result<(), StoreError> {
        let filled = users.chunks(REBUILD_CHUNK).try_for_each(|chunk| {
            let mut db = self.db();
            let tx = db.transaction()?;
            upsert_all(&tx, "site_users_next", chunk)?;
            Ok::<_, StoreError>(tx.commit()?)
        });
        if let Err(e) = filled {
            self.abandon_rebuild(rebuild);
            return Err(e);
        }
        let mut db = self.db();
        // Held to the end of the swap: a write now lands in the journal
        // (replayed here) or after the swap (in the new table).
        let mut journal = self.journal();
        let tx = db.transaction()?;
        for key in hidden_keys(&tx)? {
            tx.execute("DELETE FROM site_users_next WHERE key = ?1", [key])?;
        }
        for (user, renamed_from) in journal.take().unwrap_or_default() {
            write_user(&tx, "site_users_next", &user, renamed_from.as_deref())?;
        }
        tx.execute_batch(
            "DROP TABLE site_users; ALTER TABLE site_users_next RENAME TO site_users;",
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO scim_meta (key, value) VALUES ('index_built_at', ?1)",
            [unix_now().as_secs().to_string()],
        )?;
        tx.commit()?;
        drop(rebuild);
        Ok(())
    }

    /// How long ago the index was last swapped in, by any run on this state
    /// (`None`: never; a clock set back counts as just now).
    pub fn index_age(&self) -> Result<Option<std::time::Duration>, StoreError> {
        let at: Option<String> = self
            .db()
            .query_row(
                "SELECT value FROM scim_meta WHERE key = 'index_built_at'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(at
            .and_then(|t| t.parse::<u64>().ok())
            .map(|t| std::time::Duration::from_secs(unix_now().as_secs().saturating_sub(t))))
    }

    /// Gives up a rebuild (its listing failed): the index stays as it was.
    pub fn abandon_rebuild(&self, rebuild: Rebuild) {
        *self.journal() = None;
        if let Err(e) = self
            .db()
            .execute_batch("DROP TABLE IF EXISTS site_users_next")
        {
            tracing::warn!(
                suffix = rebuild.suffix,
                "cannot drop an abandoned index table: {e}"
            );
        }
    }

    fn journal(&self) -> std::sync::MutexGuard<'_, Option<Vec<IndexWrite>>> {
        self.rebuild_journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Adds or updates one user (after the front's own write); `renamed_from`:
    /// the webExId it had, dropped.
    pub fn index_user(
        &self,
        user: &UserSummary,
        renamed_from: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        write_user(&tx, "site_users", user, renamed_from)?;
        tx.commit()?;
        // Under the store's lock, as the swap takes them: none slips between.
        if let Some(journal) = self.journal().as_mut() {
            journal.push((user.clone(), renamed_from.map(str::to_owned)));
        }
        Ok(())
    }

    /// The visible indexed users `narrowing` selects, in the list's order.
    pub fn indexed(&self, narrowing: &IndexNarrowing) -> Result<Vec<UserSummary>, StoreError> {
        self.indexed_page(narrowing, 0, usize::MAX)
            .map(|(_, page)| page)
    }

    /// How many visible indexed users `narrowing` selects, and those from
    /// `offset` (0-based), at most `limit`, in the list's order.
    pub fn indexed_page(
        &self,
        narrowing: &IndexNarrowing,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<UserSummary>), StoreError> {
        let (condition, value) = narrowing.condition();
        // Hidden users are not in the index (`replace_index`, `mark_deleted`):
        // no per-row test, so a count or a far page stays a plain scan.
        let filter = format!("FROM site_users WHERE {condition}");
        let db = self.db();
        let value = value.unwrap_or_default();
        let bind = |sql: &str| sql.contains("?1");
        let count_sql = format!("SELECT COUNT(*) {filter}");
        let total: i64 = if bind(&count_sql) {
            db.query_row(&count_sql, [&value], |r| r.get(0))?
        } else {
            db.query_row(&count_sql, [], |r| r.get(0))?
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let page_sql = format!("SELECT {INDEX_COLUMNS} {filter} ORDER BY key LIMIT ?2 OFFSET ?3");
        let mut stmt = db.prepare(&page_sql)?;
        let rows = stmt.query_map(params![value, limit, offset], summary)?;
        let page = rows.collect::<Result<_, _>>()?;
        Ok((usize::try_from(total).unwrap_or(0), page))
    }
}

fn lower(text: &Option<String>) -> Option<String> {
    text.as_deref().map(str::to_lowercase)
}

/// The time since the Unix epoch (zero on a clock before it).
fn unix_now() -> std::time::Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// The table a rebuild fills; `{suffix}` makes its index names unique.
const NEXT_TABLE: &str = "
CREATE TABLE site_users_next (
    key TEXT PRIMARY KEY, web_ex_id TEXT NOT NULL, first_name TEXT, last_name TEXT,
    email TEXT, registration_date TEXT, active TEXT, time_zone_id INTEGER,
    email_key TEXT, first_name_key TEXT, last_name_key TEXT
) WITHOUT ROWID;
CREATE INDEX site_users_email_{suffix} ON site_users_next (email_key);
CREATE INDEX site_users_first_name_{suffix} ON site_users_next (first_name_key);
CREATE INDEX site_users_last_name_{suffix} ON site_users_next (last_name_key);
";

/// Users written to the new table per transaction during a rebuild: big
/// enough to keep the per-commit cost small, small enough that a request
/// waits milliseconds, not the whole listing's insert.
const REBUILD_CHUNK: usize = 2_000;

/// The index keys of the users hidden from SCIM.
fn hidden_keys(tx: &rusqlite::Transaction<'_>) -> Result<Vec<String>, StoreError> {
    let mut stmt = tx.prepare(HIDDEN)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows
        .map(|w| w.map(|w| w.to_lowercase()))
        .collect::<Result<_, _>>()?)
}

/// One user into `table`, its old webExId's row dropped after a rename.
fn write_user(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    user: &UserSummary,
    renamed_from: Option<&str>,
) -> Result<(), StoreError> {
    if let Some(old) = renamed_from {
        tx.execute(
            &format!("DELETE FROM {table} WHERE key = ?1"),
            [old.to_lowercase()],
        )?;
    }
    upsert_all(tx, table, std::slice::from_ref(user))
}

fn upsert_all(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    users: &[UserSummary],
) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {table} \
         (key, {INDEX_COLUMNS}, email_key, first_name_key, last_name_key) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?;
    for u in users {
        stmt.execute(params![
            u.web_ex_id.to_lowercase(),
            u.web_ex_id,
            u.first_name,
            u.last_name,
            u.email,
            u.registration_date,
            u.active,
            u.time_zone_id,
            lower(&u.email),
            lower(&u.first_name),
            lower(&u.last_name)
        ])?;
    }
    Ok(())
}

/// Groups.
impl IdStore {
    /// A new group with these members (live SCIM User ids).
    pub fn insert_group(
        &self,
        display_name: &str,
        external_id: Option<&str>,
        members: &[String],
    ) -> Result<GroupEntry, StoreError> {
        let (id, now) = (new_id(), now_rfc3339());
        let mut db = self.db();
        let tx = db.transaction()?;
        tx.execute(
            "INSERT INTO scim_groups (id, display_name, external_id, created, last_modified) \
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![id, display_name, external_id, now],
        )?;
        set_members(&tx, &id, members)?;
        tx.commit()?;
        drop(db);
        Ok(self.group(&id)?.expect("just inserted"))
    }

    /// A group's new name, externalId and members, in one transaction.
    pub fn save_group(
        &self,
        id: &str,
        display_name: &str,
        external_id: Option<&str>,
        members: &[String],
    ) -> Result<(), StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        tx.execute(
            "UPDATE scim_groups SET display_name = ?2, external_id = ?3, last_modified = ?4 \
             WHERE id = ?1",
            params![id, display_name, external_id, now_rfc3339()],
        )?;
        set_members(&tx, id, members)?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets a group and its memberships.
    pub fn delete_group(&self, id: &str) -> Result<(), StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        tx.execute("DELETE FROM scim_group_members WHERE group_id = ?1", [id])?;
        tx.execute("DELETE FROM scim_groups WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// The group with SCIM id `id`, with its live members.
    pub fn group(&self, id: &str) -> Result<Option<GroupEntry>, StoreError> {
        let db = self.db();
        let found = db
            .query_row(
                &format!("SELECT {GROUP_COLUMNS} FROM scim_groups WHERE id = ?1"),
                [id],
                group_row,
            )
            .optional()?;
        found.map(|g| with_members(&db, g)).transpose()
    }

    /// Every group, oldest first (a stable order for paging).
    pub fn groups(&self) -> Result<Vec<GroupEntry>, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare(&format!(
            "SELECT {GROUP_COLUMNS} FROM scim_groups ORDER BY created, id"
        ))?;
        let rows: Vec<GroupEntry> = stmt.query_map([], group_row)?.collect::<Result<_, _>>()?;
        rows.into_iter().map(|g| with_members(&db, g)).collect()
    }

    /// The display names of the groups a user is in.
    pub fn group_names_of(&self, user_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare(
            "SELECT g.id, g.display_name FROM scim_groups g \
             JOIN scim_group_members m ON m.group_id = g.id WHERE m.user_id = ?1",
        )?;
        let rows = stmt.query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What group membership granted a user.
    pub fn grants(&self, user_id: &str) -> Result<Vec<Grant>, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare(
            "SELECT attribute, value FROM scim_grants WHERE user_id = ?1 ORDER BY attribute, value",
        )?;
        let rows = stmt.query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records what was granted and forgets what was taken back.
    pub fn record_grants(
        &self,
        user_id: &str,
        granted: &[Grant],
        taken_back: &[Grant],
    ) -> Result<(), StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        for (attribute, value) in granted {
            tx.execute(
                "INSERT OR IGNORE INTO scim_grants (user_id, attribute, value) VALUES (?1, ?2, ?3)",
                params![user_id, attribute, value],
            )?;
        }
        for (attribute, value) in taken_back {
            tx.execute(
                "DELETE FROM scim_grants WHERE user_id = ?1 AND attribute = ?2 AND value = ?3",
                params![user_id, attribute, value],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A User deleted through SCIM leaves its groups and its grant records.
    pub fn forget_groups_of(&self, user_id: &str) -> Result<(), StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        tx.execute(
            "DELETE FROM scim_group_members WHERE user_id = ?1",
            [user_id],
        )?;
        tx.execute("DELETE FROM scim_grants WHERE user_id = ?1", [user_id])?;
        tx.commit()?;
        Ok(())
    }
}

const GROUP_COLUMNS: &str = "id, display_name, external_id, created, last_modified";

fn group_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<GroupEntry> {
    Ok(GroupEntry {
        id: row.get(0)?,
        display_name: row.get(1)?,
        external_id: row.get(2)?,
        created: row.get(3)?,
        last_modified: row.get(4)?,
        members: Vec::new(),
    })
}

/// The group with its live members, in the order they joined.
fn with_members(db: &Connection, mut group: GroupEntry) -> Result<GroupEntry, StoreError> {
    let mut stmt = db.prepare_cached(
        "SELECT u.id, u.web_ex_id FROM scim_group_members m \
         JOIN scim_users u ON u.id = m.user_id \
         WHERE m.group_id = ?1 AND u.deleted = 0 ORDER BY m.rowid",
    )?;
    let rows = stmt.query_map([&group.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    group.members = rows.collect::<Result<_, _>>()?;
    Ok(group)
}

fn set_members(
    tx: &rusqlite::Transaction<'_>,
    group_id: &str,
    members: &[String],
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM scim_group_members WHERE group_id = ?1",
        [group_id],
    )?;
    for user_id in members {
        tx.execute(
            "INSERT OR IGNORE INTO scim_group_members (group_id, user_id) VALUES (?1, ?2)",
            params![group_id, user_id],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{IdStore, IndexNarrowing, IndexOp, IndexedField};
    use crate::ops::UserSummary;

    /// Issue 20: ids are version 4 UUIDs (RFC 9562 layout: version nibble 4,
    /// variant bits 10), all different.
    #[test]
    fn new_ids_are_random_uuids() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| super::new_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            let parts: Vec<&str> = id.split('-').collect();
            let lengths: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            assert_eq!(lengths, [8, 4, 4, 4, 12], "{id}");
            assert!(parts[2].starts_with('4'), "{id}");
            assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{id}");
            assert!(
                id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
                "{id}"
            );
        }
    }

    fn listed(web_ex_id: &str) -> UserSummary {
        UserSummary {
            web_ex_id: web_ex_id.into(),
            ..UserSummary::default()
        }
    }

    fn names(store: &IdStore, narrowing: IndexNarrowing) -> Vec<String> {
        let found = store.indexed(&narrowing).unwrap();
        found.into_iter().map(|u| u.web_ex_id).collect()
    }

    #[test]
    fn the_index_narrows_by_username_without_case_and_pages_in_order() {
        let store = IdStore::open(None).unwrap();
        let users: Vec<UserSummary> = ["Carol", "ann", "Anna.b", "bob", "xann"]
            .into_iter()
            .map(listed)
            .collect();
        store.replace_index(&users).unwrap();
        use IndexNarrowing::{All, Compare};
        use IndexOp::*;
        let user_name = |op, v: &str| Compare(IndexedField::UserName, op, v.into());
        assert_eq!(
            names(&store, user_name(StartsWith, "AN")),
            ["ann", "Anna.b"]
        );
        assert_eq!(
            names(&store, user_name(Contains, "nN")),
            ["ann", "Anna.b", "xann"]
        );
        assert_eq!(names(&store, user_name(EndsWith, "ANN")), ["ann", "xann"]);
        assert_eq!(names(&store, user_name(Eq, "CAROL")), ["Carol"]);
        // As the filter compares: "" starts, ends and is contained in every name.
        for op in [StartsWith, Contains, EndsWith] {
            assert_eq!(names(&store, user_name(op, "")).len(), 5);
        }
        let (total, page) = store.indexed_page(&All, 1, 2).unwrap();
        assert_eq!(total, 5);
        let page: Vec<_> = page.into_iter().map(|u| u.web_ex_id).collect();
        assert_eq!(page, ["Anna.b", "bob"]);
        // Replaced whole: a user gone from the site is gone from the index.
        store.replace_index(&users[..2]).unwrap();
        assert_eq!(names(&store, All), ["ann", "Carol"]);
    }

    #[test]
    fn the_index_narrows_by_email_and_names_lowercased_beyond_ascii() {
        let store = IdStore::open(None).unwrap();
        let mut emile = listed("emile");
        emile.email = Some("ÉMILE@Example.COM".into());
        emile.last_name = Some("Zoë".into());
        let mut bob = listed("bob");
        bob.email = Some("bob@example.org".into());
        bob.first_name = Some("Bob".into());
        store.replace_index(&[emile, bob]).unwrap();
        let by = |field, op, v: &str| IndexNarrowing::Compare(field, op, v.into());
        use IndexOp::*;
        use IndexedField::*;
        assert_eq!(names(&store, by(Email, StartsWith, "émile@")), ["emile"]);
        assert_eq!(names(&store, by(Email, EndsWith, ".ORG")), ["bob"]);
        assert_eq!(
            names(&store, by(Email, Contains, "example")),
            ["bob", "emile"]
        );
        assert_eq!(names(&store, by(FamilyName, Eq, "ZOË")), ["emile"]);
        assert_eq!(names(&store, by(GivenName, Eq, "bob")), ["bob"]);
        // No first name: not selected (the filter finds nothing to compare either).
        assert_eq!(names(&store, by(GivenName, Contains, "")), ["bob"]);
    }

    /// The plan SQLite makes for a narrowing's count.
    fn plan(store: &IdStore, narrowing: &IndexNarrowing) -> String {
        let (condition, value) = narrowing.condition();
        let db = store.db();
        let sql = format!("EXPLAIN QUERY PLAN SELECT key FROM site_users WHERE {condition}");
        let mut stmt = db.prepare(&sql).unwrap();
        let rows = stmt
            .query_map([value.unwrap_or_default()], |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }

    /// Issue 21: `sw` and `eq` on names and emails are searches of an index
    /// of the lowercased column, not a scan of the site's users.
    #[test]
    fn prefixes_and_equalities_of_indexed_fields_search_an_index() {
        let store = IdStore::open(None).unwrap();
        store.replace_index(&[listed("ann")]).unwrap();
        use IndexedField::*;
        for field in [UserName, Email, GivenName, FamilyName] {
            for op in [IndexOp::StartsWith, IndexOp::Eq] {
                let narrowing = IndexNarrowing::Compare(field, op, "An".into());
                let plan = plan(&store, &narrowing);
                assert!(plan.starts_with("SEARCH"), "{field:?} {op:?}: {plan}");
            }
        }
    }

    /// `%`, `_` and `\` in a value are themselves, not LIKE's wildcards.
    #[test]
    fn contains_and_ends_with_match_wildcards_literally() {
        let store = IdStore::open(None).unwrap();
        let names_of = ["a_b", "axb", "50%", "500", "back\\slash", "backslash"];
        let users: Vec<UserSummary> = names_of.into_iter().map(listed).collect();
        store.replace_index(&users).unwrap();
        let by = |op, v: &str| IndexNarrowing::Compare(IndexedField::UserName, op, v.into());
        use IndexOp::*;
        assert_eq!(names(&store, by(Contains, "_")), ["a_b"]);
        assert_eq!(names(&store, by(Contains, "0%")), ["50%"]);
        assert_eq!(names(&store, by(EndsWith, "_B")), ["a_b"]);
        assert_eq!(names(&store, by(Contains, "k\\s")), ["back\\slash"]);
        assert_eq!(names(&store, by(StartsWith, "50%")), ["50%"]);
    }

    #[test]
    fn the_index_follows_writes_and_hides_users_deleted_through_scim() {
        let store = IdStore::open(None).unwrap();
        store
            .replace_index(&[listed("ann"), listed("bob")])
            .unwrap();
        store.index_user(&listed("Robert"), Some("BOB")).unwrap();
        assert_eq!(names(&store, IndexNarrowing::All), ["ann", "Robert"]);
        let ann = store.insert("ann", None, None).unwrap();
        store.mark_deleted(&ann.id).unwrap();
        assert_eq!(names(&store, IndexNarrowing::All), ["Robert"]);
        assert_eq!(
            store.indexed_page(&IndexNarrowing::All, 0, 10).unwrap().0,
            1
        );
        // A rebuild leaves it out too.
        store
            .replace_index(&[listed("Ann"), listed("Robert")])
            .unwrap();
        assert_eq!(names(&store, IndexNarrowing::All), ["Robert"]);
        // Created again (the front indexes what it writes): listed again, and
        // kept by the next rebuild.
        store.insert("ann", None, None).unwrap();
        store.index_user(&listed("ann"), None).unwrap();
        assert_eq!(names(&store, IndexNarrowing::All), ["ann", "Robert"]);
        store
            .replace_index(&[listed("ann"), listed("Robert")])
            .unwrap();
        assert_eq!(names(&store, IndexNarrowing::All), ["ann", "Robert"]);
    }

    #[test]
    fn groups_keep_their_live_members_and_grants() {
        let store = IdStore::open(None).unwrap();
        let ann = store.insert("ann", None, None).unwrap();
        let bob = store.insert("bob", None, None).unwrap();
        let group = store
            .insert_group(
                "Webinar hosts",
                Some("g-1"),
                &[ann.id.clone(), bob.id.clone()],
            )
            .unwrap();
        assert_eq!(
            group.members,
            vec![
                (ann.id.clone(), "ann".into()),
                (bob.id.clone(), "bob".into())
            ]
        );
        assert_eq!(
            store.group_names_of(&ann.id).unwrap(),
            vec![(group.id.clone(), "Webinar hosts".into())]
        );
        store
            .record_grants(&ann.id, &[("meetingTypes".into(), "218".into())], &[])
            .unwrap();
        assert_eq!(store.grants(&ann.id).unwrap().len(), 1);

        store.mark_deleted(&bob.id).unwrap();
        store.forget_groups_of(&bob.id).unwrap();
        store
            .save_group(&group.id, "Hosts", None, std::slice::from_ref(&ann.id))
            .unwrap();
        let saved = store.group(&group.id).unwrap().unwrap();
        assert_eq!(saved.display_name, "Hosts");
        assert_eq!(saved.external_id, None);
        assert_eq!(saved.members.len(), 1);
        store
            .record_grants(&ann.id, &[], &[("meetingTypes".into(), "218".into())])
            .unwrap();
        assert!(store.grants(&ann.id).unwrap().is_empty());
        store.delete_group(&group.id).unwrap();
        assert!(store.group(&group.id).unwrap().is_none());
        assert!(store.groups().unwrap().is_empty());
    }

    #[test]
    fn ids_are_stable_and_deletion_leaves_a_tombstone() {
        let store = IdStore::open(None).unwrap();
        let ann = store.insert("ann", Some("ext-1"), None).unwrap();
        let seen = store.entries_for(&["ANN", "bob"]).unwrap();
        assert_eq!(
            seen["ann"].id, ann.id,
            "Webex IDs compare case-insensitively"
        );
        let bob = seen["bob"].clone();
        assert_ne!(bob.id, ann.id);
        assert_eq!(store.entries_for(&["bob"]).unwrap()["bob"].id, bob.id);
        assert_eq!(store.by_external_id("ext-1").unwrap(), vec![ann.clone()]);

        store.mark_deleted(&ann.id).unwrap();
        assert!(store.is_deleted("ann").unwrap());
        assert!(
            store.entries_for(&["ann"]).unwrap().is_empty(),
            "not listed again"
        );
        assert!(store.by_external_id("ext-1").unwrap().is_empty());
        assert!(store.by_id(&ann.id).unwrap().unwrap().deleted);

        let again = store.insert("ann", None, Some("Ann")).unwrap();
        assert!(
            again
                .last_modified
                .as_deref()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert_ne!(again.id, ann.id);
        assert!(!store.is_deleted("ann").unwrap());
        store.rename(&again.id, "anna").unwrap();
        assert_eq!(store.entries_for(&["anna"]).unwrap()["anna"].id, again.id);
        assert!(!store.is_deleted("bob").unwrap());
    }

    #[test]
    fn kept_attributes_follow_the_id() {
        let store = IdStore::open(None).unwrap();
        let ann = store.insert("ann", None, None).unwrap();
        assert_eq!(ann.kept, None);
        store
            .set_kept(&ann.id, Some(r#"{"attributes":{"nickName":"A"}}"#))
            .unwrap();
        store
            .set_kept(&ann.id, Some(r#"{"attributes":{"nickName":"B"}}"#))
            .unwrap();
        store.rename(&ann.id, "anna").unwrap();
        let seen = store.entries_for(&["anna"]).unwrap();
        assert_eq!(
            seen["anna"].kept.as_deref(),
            Some(r#"{"attributes":{"nickName":"B"}}"#)
        );
        assert_eq!(
            store.by_id(&ann.id).unwrap().unwrap().kept,
            seen["anna"].kept
        );
        store.set_kept(&ann.id, None).unwrap();
        assert_eq!(store.by_id(&ann.id).unwrap().unwrap().kept, None);
    }
}

#[cfg(all(test, unix))]
mod file_tests {
    use std::os::unix::fs::PermissionsExt;

    use super::IdStore;

    /// The state names every user the identity provider manages: owner-only,
    /// even when the file was there before with a looser mode.
    #[test]
    fn the_state_file_is_owner_only() {
        let dir = std::env::temp_dir().join(format!("wbxprov-scim-ids-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (fresh, loose) = (dir.join("fresh.sqlite"), dir.join("loose.sqlite"));
        let _ = std::fs::remove_file(&fresh);
        std::fs::write(&loose, b"").unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        for path in [&fresh, &loose] {
            let store = IdStore::open(Some(path)).unwrap();
            store.insert("ann", Some("ext-1"), None).unwrap();
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
