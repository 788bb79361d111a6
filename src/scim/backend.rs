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
    /// The parsed `filter`, if any.
    pub filter: Option<Filter>,
    /// `startIndex`: the 1-based index of the first resource (RFC 7644 §3.4.2.4).
    pub start_index: Option<usize>,
    /// `count`: the most resources wanted on the page.
    pub count: Option<usize>,
    /// `attributes`: the attributes the answer is projected to (empty: all).
    pub attributes: Vec<String>,
}

/// A SCIM service's resources. Every answer is a resource or a ListResponse
/// as SCIM JSON; the router projects `attributes`/`excludedAttributes`.
pub trait Backend: Send + Sync + 'static {
    /// `GET /Users`: a ListResponse of the users matching `query`.
    fn list_users(&self, query: &ListQuery)
    -> impl Future<Output = Result<Json, ScimError>> + Send;
    /// `GET /Users/{id}`: one User; 404 when there is none.
    fn get_user(&self, id: &str) -> impl Future<Output = Result<Json, ScimError>> + Send;
    /// `POST /Users`: creates a User from `body` and answers it with its `id`.
    fn create_user(&self, body: &Json) -> impl Future<Output = Result<Json, ScimError>> + Send;
    /// `PUT /Users/{id}`: replaces the User with `body`.
    fn replace_user(
        &self,
        id: &str,
        body: &Json,
    ) -> impl Future<Output = Result<Json, ScimError>> + Send;
    /// `PATCH /Users/{id}`: applies a PatchOp `body` (RFC 7644 §3.5.2).
    fn patch_user(
        &self,
        id: &str,
        body: &Json,
    ) -> impl Future<Output = Result<Json, ScimError>> + Send;
    /// `DELETE /Users/{id}`.
    fn delete_user(&self, id: &str) -> impl Future<Output = Result<(), ScimError>> + Send;

    /// `GET /Groups`: a ListResponse of the groups matching `query`.
    fn list_groups(
        &self,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Json, ScimError>> + Send;
    /// `GET /Groups/{id}`: one Group; 404 when there is none.
    fn get_group(&self, id: &str) -> impl Future<Output = Result<Json, ScimError>> + Send;
    /// `POST /Groups`: creates a Group from `body` and answers it with its `id`.
    fn create_group(&self, body: &Json) -> impl Future<Output = Result<Json, ScimError>> + Send;
    /// `PUT /Groups/{id}`: replaces the Group with `body`.
    fn replace_group(
        &self,
        id: &str,
        body: &Json,
    ) -> impl Future<Output = Result<Json, ScimError>> + Send;
    /// `PATCH /Groups/{id}`: applies a PatchOp `body` (members added and removed).
    fn patch_group(
        &self,
        id: &str,
        body: &Json,
    ) -> impl Future<Output = Result<Json, ScimError>> + Send;
    /// `DELETE /Groups/{id}`.
    fn delete_group(&self, id: &str) -> impl Future<Output = Result<(), ScimError>> + Send;
}

/// A Meetings site as a SCIM backend.
#[derive(Debug)]
pub struct Meetings {
    users: Service,
    groups: Groups,
}

impl Meetings {
    /// The backend of a site: its users through `users`, its groups through `groups`.
    pub fn new(users: Service, groups: Groups) -> Self {
        Meetings { users, groups }
    }

    /// The Users side, for a host application that needs the site client or the id store.
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
