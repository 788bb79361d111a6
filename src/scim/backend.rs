//! What the SCIM router asks of the system behind it: the Users and Groups
//! operations of RFC 7644 §3, on SCIM JSON, each failure a typed
//! [`ScimError`]. The router does the protocol (routes, authentication,
//! query parameters, projection, error bodies); a backend does the resources.
//! [`Meetings`] is the backend of a Meetings site: its Users are the site's
//! users ([`Service`]), its Groups kept by wbxprov and turned into Meetings
//! entitlements ([`Groups`]).

use std::future::Future;

use serde_json::Value as Json;

use super::error::ScimError;
use super::filter::Filter;
use super::groups::Groups;
use super::service::Service;

/// A list request: `filter`, 1-based `startIndex`, `count`, and the
/// `attributes` the answer is projected to (empty: all), which a backend may
/// use to read less (the router projects all the same).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    pub start_index: Option<usize>,
    pub count: Option<usize>,
    pub attributes: Vec<String>,
}

/// A SCIM service's resources. Every answer is a resource or a ListResponse
/// as SCIM JSON; the router projects `attributes`/`excludedAttributes`.
pub trait Backend: Send + Sync + 'static {
    fn list_users(&self, query: &ListQuery)
    -> impl Future<Output = Result<Json, ScimError>> + Send;
    fn get_user(&self, id: &str) -> impl Future<Output = Result<Json, ScimError>> + Send;
    fn create_user(&self, body: &Json) -> impl Future<Output = Result<Json, ScimError>> + Send;
    fn replace_user(
        &self,
        id: &str,
        body: &Json,
    ) -> impl Future<Output = Result<Json, ScimError>> + Send;
    fn patch_user(
        &self,
        id: &str,
        body: &Json,
    ) -> impl Future<Output = Result<Json, ScimError>> + Send;
    fn delete_user(&self, id: &str) -> impl Future<Output = Result<(), ScimError>> + Send;

    fn list_groups(
        &self,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Json, ScimError>> + Send;
    fn get_group(&self, id: &str) -> impl Future<Output = Result<Json, ScimError>> + Send;
    fn create_group(&self, body: &Json) -> impl Future<Output = Result<Json, ScimError>> + Send;
    fn replace_group(
        &self,
        id: &str,
        body: &Json,
    ) -> impl Future<Output = Result<Json, ScimError>> + Send;
    fn patch_group(
        &self,
        id: &str,
        body: &Json,
    ) -> impl Future<Output = Result<Json, ScimError>> + Send;
    fn delete_group(&self, id: &str) -> impl Future<Output = Result<(), ScimError>> + Send;
}

/// A Meetings site as a SCIM backend.
#[derive(Debug)]
pub struct Meetings {
    users: Service,
    groups: Groups,
}

impl Meetings {
    pub fn new(users: Service, groups: Groups) -> Self {
        Meetings { users, groups }
    }

    pub fn users(&self) -> &Service {
        &self.users
    }
}

impl Backend for Meetings {
    async fn list_users(&self, query: &ListQuery) -> Result<Json, ScimError> {
        self.users.list(query).await
    }

    async fn get_user(&self, id: &str) -> Result<Json, ScimError> {
        self.users.get(id).await
    }

    // Every /Users write holds the groups' lock (`Groups::hold`): it reads
    // the grant records and writes whole entitlement lists, as a group
    // change does. A POST too: a user deleted through SCIM and created
    // again is reactivated from its site state.
    async fn create_user(&self, body: &Json) -> Result<Json, ScimError> {
        let _groups = self.groups.hold().await;
        self.users.create(body).await
    }

    async fn replace_user(&self, id: &str, body: &Json) -> Result<Json, ScimError> {
        let _groups = self.groups.hold().await;
        self.users.replace(id, body).await
    }

    async fn patch_user(&self, id: &str, body: &Json) -> Result<Json, ScimError> {
        let _groups = self.groups.hold().await;
        self.users.patch(id, body).await
    }

    /// What the user's groups granted is taken back first, as if it left
    /// each (README "Groups"). Should the site refuse that, the user is
    /// deleted all the same (deprovisioning must not wait on entitlements)
    /// and the refusal is logged, naming the user and why.
    async fn delete_user(&self, id: &str) -> Result<(), ScimError> {
        let _groups = self.groups.hold().await;
        match self.groups.take_back_all_held(&self.users, id).await {
            Ok(()) => {}
            Err(e) if e.status == 404 => return Err(e),
            Err(e) => tracing::warn!(
                user = id,
                "deleting the user without taking back what its groups granted: {}",
                e.detail
            ),
        }
        self.users.delete(id).await
    }

    async fn list_groups(&self, query: &ListQuery) -> Result<Json, ScimError> {
        self.groups.list(&self.users, query).await
    }

    async fn get_group(&self, id: &str) -> Result<Json, ScimError> {
        self.groups.get(&self.users, id).await
    }

    async fn create_group(&self, body: &Json) -> Result<Json, ScimError> {
        self.groups.create(&self.users, body).await
    }

    async fn replace_group(&self, id: &str, body: &Json) -> Result<Json, ScimError> {
        self.groups.replace(&self.users, id, body).await
    }

    async fn patch_group(&self, id: &str, body: &Json) -> Result<Json, ScimError> {
        self.groups.patch(&self.users, id, body).await
    }

    async fn delete_group(&self, id: &str) -> Result<(), ScimError> {
        self.groups.delete(&self.users, id).await
    }
}
