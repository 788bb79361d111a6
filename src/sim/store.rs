//! Where the simulator keeps its users: in memory, or in SQLite across restarts.
//! Secret attributes (passwords, PINs) are never written to disk: after a
//! restart those users keep everything else.

use std::path::Path;
use std::sync::Mutex;

use crate::schema::FlatUser;

/// One user of the simulated site.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredUser {
    /// The user's Webex ID: the key.
    pub web_ex_id: String,
    /// The numeric ID CreateUser answered.
    pub user_id: i64,
    /// Every attribute the site keeps (what GetUser shows, and the password).
    pub flat: FlatUser,
}

/// Why the simulator's state could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The state file could not be created owner-only.
    #[error("simulator state: {0}")]
    File(#[source] std::io::Error),
    /// The state database failed.
    #[error("simulator state: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// A stored user's attributes are not JSON.
    #[error("simulator state: {0}")]
    Json(#[source] serde_json::Error),
    /// A stored user's attributes are not catalogue attributes.
    #[error("simulator state: {web_ex_id}: {}", .reasons.join("; "))]
    User {
        /// The user.
        web_ex_id: String,
        /// Every problem of the stored attributes.
        reasons: Vec<String>,
    },
}

/// Persistence for the simulator.
pub trait Store: Send + Sync {
    /// Every stored user, at start-up.
    fn load(&self) -> Result<Vec<StoredUser>, StoreError>;
    /// Stores a user (insert or replace). A store that writes to disk leaves secret attributes out.
    fn save(&self, user: &StoredUser) -> Result<(), StoreError>;
    /// Forgets the user stored under `web_ex_id` (a rename stores it again under its new ID).
    fn delete(&self, web_ex_id: &str) -> Result<(), StoreError>;
}

/// Nothing survives the process.
#[derive(Debug, Default)]
pub struct Memory;

impl Store for Memory {
    fn load(&self) -> Result<Vec<StoredUser>, StoreError> {
        Ok(Vec::new())
    }
    fn save(&self, _: &StoredUser) -> Result<(), StoreError> {
        Ok(())
    }
    fn delete(&self, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// One row per user, its attributes as flat JSON.
pub struct Sqlite {
    db: Mutex<rusqlite::Connection>,
}

fn err(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e)
}

impl Sqlite {
    /// Opens (or creates, owner-only: it holds user data) the state file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        crate::private_file::touch(path).map_err(StoreError::File)?;
        let db = rusqlite::Connection::open(path).map_err(err)?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS users (
                 web_ex_id TEXT PRIMARY KEY COLLATE NOCASE,
                 user_id INTEGER NOT NULL,
                 attributes TEXT NOT NULL
             );",
        )
        .map_err(err)?;
        Ok(Sqlite { db: Mutex::new(db) })
    }
}

impl Store for Sqlite {
    fn load(&self) -> Result<Vec<StoredUser>, StoreError> {
        let db = self.db.lock().expect("sqlite lock");
        let mut stmt = db
            .prepare("SELECT web_ex_id, user_id, attributes FROM users ORDER BY user_id")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .map_err(err)?;
        let mut users = Vec::new();
        for row in rows {
            let (web_ex_id, user_id, json) = row.map_err(err)?;
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&json).map_err(StoreError::Json)?;
            let flat = FlatUser::from_json(&object).map_err(|errors| StoreError::User {
                web_ex_id: web_ex_id.clone(),
                reasons: errors.iter().map(ToString::to_string).collect(),
            })?;
            users.push(StoredUser {
                web_ex_id,
                user_id,
                flat,
            });
        }
        Ok(users)
    }

    fn save(&self, user: &StoredUser) -> Result<(), StoreError> {
        let kept: FlatUser = user
            .flat
            .iter()
            .filter(|(k, _)| !k.attribute.info().secret)
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        let json = serde_json::Value::Object(kept.to_json(false)).to_string();
        self.db
            .lock()
            .expect("sqlite lock")
            .execute(
                "INSERT INTO users (web_ex_id, user_id, attributes) VALUES (?1, ?2, ?3)
                 ON CONFLICT(web_ex_id) DO UPDATE SET user_id = ?2, attributes = ?3",
                rusqlite::params![user.web_ex_id, user.user_id, json],
            )
            .map_err(err)?;
        Ok(())
    }

    fn delete(&self, web_ex_id: &str) -> Result<(), StoreError> {
        self.db
            .lock()
            .expect("sqlite lock")
            .execute("DELETE FROM users WHERE web_ex_id = ?1", [web_ex_id])
            .map_err(err)?;
        Ok(())
    }
}
