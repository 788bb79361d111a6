//! The site as one plan sees it: the LstsummaryUser listing, indexed by
//! webExId and email, and the journal's people (source key → site user).
//! Finding a person goes key first (journal → the site user it names), then
//! webExId, then email.

use std::collections::HashMap;

use super::journal::KnownPerson;
use crate::ops::UserSummary;

/// How a person was found on the site; the stronger claims a site user first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum FoundBy {
    /// The journal ties the person's source key to this site user.
    Key,
    /// The mapping's match key (webExId or email) names it.
    MatchKey,
    WebExId,
    Email,
}

pub(super) struct Snapshot {
    pub users: Vec<UserSummary>,
    by_web_ex_id: HashMap<String, usize>,
    by_email: HashMap<String, usize>,
    /// Journal: key (lower-cased) → person.
    known: HashMap<String, KnownPerson>,
    /// Journal: site user (lower-cased webExId) → the key it belongs to.
    owner: HashMap<String, String>,
}

impl Snapshot {
    pub fn new(users: Vec<UserSummary>, known: Vec<KnownPerson>) -> Snapshot {
        let mut by_web_ex_id = HashMap::new();
        let mut by_email = HashMap::new();
        for (i, u) in users.iter().enumerate() {
            by_web_ex_id.insert(u.web_ex_id.to_lowercase(), i);
            if let Some(e) = &u.email {
                by_email.insert(e.to_lowercase(), i);
            }
        }
        let owner = known
            .iter()
            .filter_map(|p| Some((p.web_ex_id.as_ref()?.to_lowercase(), p.key.clone())))
            .collect();
        let known = known
            .into_iter()
            .map(|p| (p.key.to_lowercase(), p))
            .collect();
        Snapshot {
            users,
            by_web_ex_id,
            by_email,
            known,
            owner,
        }
    }

    pub fn by_web_ex_id(&self, web_ex_id: &str) -> Option<usize> {
        self.by_web_ex_id.get(&web_ex_id.to_lowercase()).copied()
    }

    pub fn by_email(&self, email: &str) -> Option<usize> {
        self.by_email.get(&email.to_lowercase()).copied()
    }

    /// What the journal remembers of a key.
    pub fn known(&self, key: &str) -> Option<&KnownPerson> {
        self.known.get(&key.to_lowercase())
    }

    /// The key the journal ties a site user to: by its webExId, or, in a
    /// journal of the previous version, a key that is its webExId or email.
    pub fn owner(&self, user: usize) -> Option<&str> {
        let u = &self.users[user];
        let id = u.web_ex_id.to_lowercase();
        if let Some(key) = self.owner.get(&id) {
            return Some(key);
        }
        let legacy = |k: &str| {
            self.known
                .get(k)
                .filter(|p| p.web_ex_id.is_none())
                .map(|p| p.key.as_str())
        };
        legacy(&id).or_else(|| legacy(&u.email.as_ref()?.to_lowercase()))
    }

    /// The site user the journal names for a source key.
    pub fn by_key(&self, key: &str) -> Option<usize> {
        let person = self.known(key)?;
        person
            .web_ex_id
            .as_deref()
            .and_then(|w| self.by_web_ex_id(w))
            .or_else(|| person.email.as_deref().and_then(|e| self.by_email(e)))
    }
}
