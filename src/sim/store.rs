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

/// Why the simulator's state could not be loaded or saved (the SQLite error, as text).
#[derive(Debug, thiserror::Error)]
#[error("simulator state: {0}")]
pub struct StoreError(String);

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

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl Sqlite {
    /// Opens (or creates, owner-only: it holds user data) the state file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        crate::private_file::touch(path).map_err(err)?;
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
                serde_json::from_str(&json).map_err(err)?;
            let flat = FlatUser::from_json(&object).map_err(|errors| {
                StoreError(format!(
                    "{web_ex_id}: {}",
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
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
