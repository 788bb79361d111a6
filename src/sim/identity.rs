//! The Control Hub half of a simulated Control-Hub-managed site: the Webex
//! identity API (SCIM 2 Users, the subset wbxprov uses) over the same users
//! as the XML API, so that a person created in the organisation is a site
//! user, as on a real Control-Hub-managed site. Bearer token, 409 on a taken
//! userName, 429 bursts on demand.

use std::collections::HashMap;

use serde_json::{Value as Json, json};

use super::{Simulator, State, StoredUser, email_taken, text};
use crate::identity::Person;
use crate::schema::{Attribute, FlatKey, FlatUser, Value};
use crate::scim::Filter;
use crate::scim::filter::CompareOp;
use crate::scim::user::{ERROR, LIST, core_path};

/// What the organisation keeps of a person beyond the site user.
#[derive(Debug, Clone, Default)]
pub(super) struct PersonExtra {
    pub external_id: Option<String>,
    pub display_name: Option<String>,
}

/// One identity API request, as the HTTP layer hands it over.
#[derive(Debug)]
pub struct IdentityCall<'a> {
    /// The HTTP method, e.g. `GET`.
    pub method: &'a str,
    /// The organisation the path names (`/identity/scim/{orgId}/v2`).
    pub org_id: &'a str,
    /// `/Users/{id}`
    pub id: Option<&'a str>,
    /// The query parameters (`filter`, `startIndex`, `count`).
    pub query: &'a HashMap<String, String>,
    /// The `Authorization` header, as sent: the bearer token is checked against the site's.
    pub authorization: Option<&'a str>,
    /// The request body.
    pub body: &'a [u8],
}

/// Its answer.
#[derive(Debug)]
pub struct IdentityAnswer {
    /// The HTTP status.
    pub status: u16,
    /// Seconds, with 429.
    pub retry_after: Option<u64>,
    /// The JSON body (`None`: no body).
    pub body: Option<Json>,
}

fn error(status: u16, detail: impl Into<String>) -> IdentityAnswer {
    IdentityAnswer {
        status,
        retry_after: None,
        body: Some(
            json!({"schemas": [ERROR], "status": status.to_string(), "detail": detail.into()}),
        ),
    }
}

fn ok(status: u16, body: Json) -> IdentityAnswer {
    IdentityAnswer {
        status,
        retry_after: None,
        body: Some(body),
    }
}

fn person_id(user_id: i64) -> String {
    format!("sim-person-{user_id}")
}

/// The catalogue attributes a person shows: those the SCIM core User carries.
fn identity_view(user: &FlatUser) -> FlatUser {
    user.iter()
        .filter(|(k, _)| {
            core_path(k.attribute).is_some()
                && !matches!(k.attribute, Attribute::Password | Attribute::NewWebExId)
        })
        .map(|(k, v)| (*k, v.clone()))
        .collect()
}

impl Simulator {
    fn person_json(&self, state: &State, user: &StoredUser) -> Json {
        let extra = state
            .persons
            .get(&user.user_id)
            .cloned()
            .unwrap_or_default();
        let id = person_id(user.user_id);
        let mut json = Person {
            id: Some(id.clone()),
            attributes: identity_view(&user.flat),
            display_name: extra.display_name,
            external_id: extra.external_id,
        }
        .to_json();
        json["id"] = json!(id);
        json["meta"] = json!({"resourceType": "User"});
        json
    }

    fn user_of_person(state: &State, id: &str) -> Option<String> {
        let user_id: i64 = id.strip_prefix("sim-person-")?.parse().ok()?;
        state
            .users
            .iter()
            .find(|(_, u)| u.user_id == user_id)
            .map(|(k, _)| k.clone())
    }

    /// Answers one identity API request.
    pub fn identity(&self, call: IdentityCall<'_>) -> IdentityAnswer {
        *self
            .identity_calls
            .lock()
            .expect("sim identity calls")
            .entry(call.method.to_ascii_uppercase())
            .or_default() += 1;
        let expected = self.config.identity_token.expose().as_bytes();
        let token = call.authorization.and_then(crate::server::bearer_token);
        if !token.is_some_and(|t| crate::server::same_token(t.as_bytes(), expected)) {
            return error(401, "The request requires a valid access token");
        }
        let org = self.config.profile.control_hub.as_ref();
        if org.is_none_or(|c| c.org_id != call.org_id) {
            return error(404, format!("no organisation {}", call.org_id));
        }
        let mut state = self.state.lock().expect("sim state");
        if let Some(mut limited) = self.rate_limited(&mut state) {
            // The identity API's error shape (SCIM), the licences API's wait.
            limited.body = error(429, "Too many requests").body;
            return limited;
        }
        let body = || -> Result<Json, IdentityAnswer> {
            serde_json::from_slice(call.body).map_err(|e| error(400, format!("not JSON: {e}")))
        };
        let result = match (call.method.to_ascii_uppercase().as_str(), call.id) {
            ("GET", None) => Ok(self.list_persons(&state, call.query)),
            ("POST", None) => body().and_then(|b| self.create_person(&mut state, &b)),
            ("GET", Some(id)) => match Self::user_of_person(&state, id) {
                Some(key) => Ok(ok(200, self.person_json(&state, &state.users[&key]))),
                None => Err(error(404, format!("no person {id}"))),
            },
            ("PATCH", Some(id)) => body().and_then(|b| self.patch_person(&mut state, id, &b)),
            ("DELETE", Some(id)) => self.delete_person(&mut state, id),
            (method, _) => Err(error(405, format!("{method} is not allowed here"))),
        };
        result.unwrap_or_else(|e| e)
    }

    fn list_persons(&self, state: &State, query: &HashMap<String, String>) -> IdentityAnswer {
        let filter = match query.get("filter").map(|f| f.parse::<Filter>()) {
            Some(Ok(f)) => Some(f),
            Some(Err(e)) => return error(400, format!("invalid filter: {e}")),
            None => None,
        };
        // `userName eq "…"` (how wbxprov finds a person) is one lookup, not a scan.
        let candidates: Vec<&StoredUser> = match &filter {
            Some(Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: Json::String(name),
            }) if path.eq_ignore_ascii_case("userName") => {
                state.users.get(&name.to_lowercase()).into_iter().collect()
            }
            _ => state.users.values().collect(),
        };
        let all: Vec<Json> = candidates
            .into_iter()
            .map(|u| self.person_json(state, u))
            .filter(|p| filter.as_ref().is_none_or(|f| f.matches(p)))
            .collect();
        let number = |name: &str, default: usize| {
            query
                .get(name)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(default)
        };
        let start = number("startIndex", 1).max(1);
        let page: Vec<Json> = all
            .iter()
            .skip(start - 1)
            .take(number("count", 100))
            .cloned()
            .collect();
        ok(
            200,
            json!({"schemas": [LIST], "totalResults": all.len(), "itemsPerPage": page.len(),
                   "startIndex": start, "Resources": page}),
        )
    }

    fn create_person(
        &self,
        state: &mut State,
        body: &Json,
    ) -> Result<IdentityAnswer, IdentityAnswer> {
        let person = Person::from_json(body).map_err(|e| error(400, e.to_string()))?;
        let user_name = person.user_name().to_owned();
        if !user_name.contains('@') {
            return Err(error(400, "userName must be the person's email address"));
        }
        if body.get("userType").is_none() {
            return Err(error(400, "userType is required"));
        }
        let mut flat = identity_view(&person.attributes);
        flat.insert(
            FlatKey::new(Attribute::WebExId),
            Value::Text(user_name.clone()),
        );
        if text(&flat, Attribute::Email).is_none() {
            flat.insert(
                FlatKey::new(Attribute::Email),
                Value::Text(user_name.clone()),
            );
        }
        let user_id = match self.add_user(state, flat) {
            Ok(Ok(id)) => id,
            Ok(Err(("030004" | "030005", reason))) => return Err(error(409, reason)),
            Ok(Err((_, reason))) => return Err(error(400, reason)),
            Err(e) => return Err(error(500, e)),
        };
        state.persons.insert(
            user_id,
            PersonExtra {
                external_id: person.external_id,
                display_name: person.display_name,
            },
        );
        let key = user_name.to_lowercase();
        Ok(ok(201, self.person_json(state, &state.users[&key])))
    }

    fn patch_person(
        &self,
        state: &mut State,
        id: &str,
        body: &Json,
    ) -> Result<IdentityAnswer, IdentityAnswer> {
        let key =
            Self::user_of_person(state, id).ok_or_else(|| error(404, format!("no person {id}")))?;
        let mut resource = self.person_json(state, &state.users[&key]);
        crate::scim::patch::apply(&mut resource, body).map_err(|e| error(400, e))?;
        let person = Person::from_json(&resource).map_err(|e| error(400, e.to_string()))?;
        let new_name = person.user_name().to_owned();
        let wanted = identity_view(&person.attributes);
        if !new_name.eq_ignore_ascii_case(&key)
            && state.users.contains_key(&new_name.to_lowercase())
        {
            return Err(error(409, format!("userName {new_name} is taken")));
        }
        if let Some(email) = text(&wanted, Attribute::Email)
            && email_taken(state, email, Some(&key))
        {
            return Err(error(409, format!("email {email} is taken")));
        }
        let mut stored = state.users.remove(&key).expect("found above");
        state.index.remove(&stored);
        // The person's attributes replace those the site user had.
        let old: Vec<FlatKey> = identity_view(&stored.flat)
            .iter()
            .map(|(k, _)| *k)
            .collect();
        for k in old {
            stored.flat.remove(&k);
        }
        for (k, v) in wanted.into_iter() {
            stored.flat.insert(k, v);
        }
        if new_name != stored.web_ex_id {
            let _ = self.store.delete(&stored.web_ex_id);
            stored.web_ex_id = new_name.clone();
        }
        stored.flat.insert(
            FlatKey::new(Attribute::WebExId),
            Value::Text(new_name.clone()),
        );
        state.index.add(&stored);
        let saved = self.store.save(&stored);
        state.persons.insert(
            stored.user_id,
            PersonExtra {
                external_id: person.external_id,
                display_name: person.display_name,
            },
        );
        state.users.insert(new_name.to_lowercase(), stored);
        saved.map_err(|e| error(500, e.to_string()))?;
        Ok(ok(
            200,
            self.person_json(state, &state.users[&new_name.to_lowercase()]),
        ))
    }

    fn delete_person(&self, state: &mut State, id: &str) -> Result<IdentityAnswer, IdentityAnswer> {
        let key =
            Self::user_of_person(state, id).ok_or_else(|| error(404, format!("no person {id}")))?;
        let stored = state.users.remove(&key).expect("found above");
        state.index.remove(&stored);
        state.persons.remove(&stored.user_id);
        // A person removed from the organisation holds no licence.
        state.licences.holders.remove(&stored.user_id);
        state.licences.attendee.remove(&stored.user_id);
        self.store
            .delete(&stored.web_ex_id)
            .map_err(|e| error(500, e.to_string()))?;
        Ok(IdentityAnswer {
            status: 204,
            retry_after: None,
            body: None,
        })
    }
}
