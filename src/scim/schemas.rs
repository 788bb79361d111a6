//! The discovery documents (RFC 7643 §5–§7): ServiceProviderConfig,
//! ResourceTypes and Schemas. The core and enterprise User schemas list only
//! what the mapping in `user` carries; the extension lists every catalogue
//! attribute, generated from the catalogue.

use serde_json::{Value as Json, json};

use super::translate::kept::{CORE_KEPT, ENTERPRISE_KEPT, MANAGER_PARTS, NAME_PARTS};
use super::user::{ADDRESS, CORE, EMAILS, ENTERPRISE, EXTENSION, PHONES, core_path, shown};
use crate::schema::{ATTRIBUTES, Attribute, ScalarType};
use crate::schema::{TIME_ZONE_IANA, WEBEX_LANGUAGES, WEBEX_LOCALES};

/// Attributes wbxprov keeps for a site that has no place for them.
fn kept(names: &[&str]) -> Vec<Json> {
    names
        .iter()
        .map(|n| {
            attr(
                n,
                "string",
                "Kept by wbxprov (a site has none) and returned",
                json!({}),
            )
        })
        .collect()
}

/// `/Schemas` resources' schema (RFC 7643 §7).
pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// `/ResourceTypes` resources' schema (RFC 7643 §6).
pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// `/ServiceProviderConfig`'s schema (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// Largest page a list answers, whatever `count` asks for.
pub const MAX_RESULTS: usize = 500;

/// One attribute definition; `extra` adds or overrides characteristics.
fn attr(name: &str, kind: &str, description: &str, extra: Json) -> Json {
    let mut out = json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    });
    if let (Some(o), Json::Object(extra)) = (out.as_object_mut(), extra) {
        o.extend(extra);
    }
    out
}

/// `value` and `type` (one of `types`) of a multi-valued item. No `primary`:
/// a site keeps one value per type and no preference among them.
fn typed_items(
    name: &str,
    description: &str,
    types: &[&str],
    required: bool,
    value_description: &str,
) -> Json {
    attr(
        name,
        "complex",
        description,
        json!({
            "multiValued": true,
            "required": required,
            "subAttributes": [
                attr("value", "string", value_description, json!({"required": required})),
                attr("type", "string", "The kind of item; each kind is one Meetings attribute",
                    json!({"canonicalValues": types})),
            ],
        }),
    )
}

fn kinds(pairs: &[(&'static str, Attribute)]) -> Vec<&'static str> {
    pairs.iter().map(|(kind, _)| *kind).collect()
}

/// The core User schema, restricted to what a Meetings site keeps.
pub fn core_user_schema() -> Json {
    let address_subs: Vec<Json> = ADDRESS
        .iter()
        .map(|(sub, a)| attr(sub, "string", a.info().description, json!({})))
        .chain([attr(
            "type",
            "string",
            "Only the work address is kept",
            json!({"canonicalValues": ["work"]}),
        )])
        .collect();
    let name_subs: Vec<Json> = [
        attr(
            "givenName",
            "string",
            "firstName",
            json!({"required": true}),
        ),
        attr(
            "familyName",
            "string",
            "lastName",
            json!({"required": true}),
        ),
    ]
    .into_iter()
    .chain(kept(&NAME_PARTS))
    .collect();
    let attributes = vec![
        attr(
            "userName",
            "string",
            "The Webex ID; also the email when it contains @",
            json!({"required": true, "uniqueness": "server"}),
        ),
        attr(
            "name",
            "complex",
            "The user's name",
            json!({"required": true, "subAttributes": name_subs}),
        ),
        attr(
            "displayName",
            "string",
            "Kept by wbxprov (a site has none); givenName familyName until a client sets one",
            json!({}),
        ),
        attr("title", "string", "title", json!({})),
        attr(
            "preferredLanguage",
            "string",
            "language: a BCP-47 tag (schema/languages.tsv; other regions of a language and the site's default as fallbacks); the tag sent is returned",
            json!({"canonicalValues": WEBEX_LANGUAGES.iter().map(|(_, _, tags)| tags[0]).collect::<Vec<_>>()}),
        ),
        attr(
            "locale",
            "string",
            "locale: a BCP-47 tag of a language with a Webex locale, else the site's default; the tag sent is returned",
            json!({"canonicalValues": WEBEX_LOCALES.iter().map(|(_, tags)| tags[0]).collect::<Vec<_>>()}),
        ),
        attr(
            "timezone",
            "string",
            "timeZone: an IANA zone whose rules a Webex zone keeps (schema/time-zones.tsv); the zone sent is returned",
            json!({"canonicalValues": TIME_ZONE_IANA.iter().map(|zones| zones[0]).collect::<Vec<_>>()}),
        ),
        attr(
            "active",
            "boolean",
            "false deactivates the user (DelUser), true reactivates",
            json!({}),
        ),
        attr(
            "password",
            "string",
            "Checked against the site's password criteria; never returned",
            json!({"mutability": "writeOnly", "returned": "never"}),
        ),
        typed_items(
            "emails",
            "email",
            &kinds(&EMAILS),
            true,
            "The email address",
        ),
        typed_items(
            "phoneNumbers",
            "phones",
            &kinds(&PHONES),
            false,
            "E.164, an RFC 3966 tel: URI or a national number; the site keeps country,area,local; returned as E.164 (tel: with an extension)",
        ),
    ];
    let mut attributes = attributes;
    attributes.extend(kept(&CORE_KEPT));
    attributes.extend([attr(
        "addresses",
        "complex",
        "address",
        json!({"multiValued": true, "subAttributes": address_subs}),
    )]);
    schema_document(CORE, "User", "User Account", attributes)
}

/// The enterprise extension: `organization` is the user's company.
pub fn enterprise_schema() -> Json {
    schema_document(
        ENTERPRISE,
        "EnterpriseUser",
        "Enterprise User",
        [attr("organization", "string", "company", json!({}))]
            .into_iter()
            .chain(kept(&ENTERPRISE_KEPT[..4]))
            .chain([attr(
                "manager",
                "complex",
                "Kept by wbxprov (a site has none) and returned",
                json!({"subAttributes": kept(&MANAGER_PARTS[..2])}),
            )])
            .collect(),
    )
}

/// The wbxprov extension schema, one SCIM attribute per catalogue attribute.
/// Attributes a core attribute carries are read-only here (one way in).
pub fn extension_schema() -> Json {
    let attributes: Vec<Json> = ATTRIBUTES
        .iter()
        .map(|a| {
            let scalar = a.value_type.scalar();
            let kind = match scalar {
                ScalarType::Bool => "boolean",
                ScalarType::Int { .. } => "integer",
                _ => "string",
            };
            let settable = a.ops.create || a.ops.set;
            let core = core_path(a.attribute);
            let mutability = match (shown(a.attribute), settable, &core) {
                (_, _, Some(_)) | (true, false, None) => "readOnly",
                (true, true, None) => "readWrite",
                (false, _, None) => "writeOnly",
            };
            let description = match &core {
                Some(path) => format!("{} (set it through {path})", a.description),
                None => a.description.to_owned(),
            };
            let mut out = attr(
                a.name,
                kind,
                &description,
                json!({
                    "multiValued": a.value_type.is_list(),
                    "mutability": mutability,
                    "returned": if shown(a.attribute) { "default" } else { "never" },
                }),
            );
            if let ScalarType::Enum { values } = scalar {
                out["canonicalValues"] = json!(values);
            }
            out
        })
        .collect();
    schema_document(
        EXTENSION,
        "WebexMeetingsUser",
        "Every Webex Meetings user attribute of the wbxprov catalogue, by flat name",
        attributes,
    )
}

fn schema_document(id: &str, name: &str, description: &str, attributes: Vec<Json>) -> Json {
    json!({
        "schemas": [SCHEMA],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("/Schemas/{id}")},
    })
}

/// Every schema the service publishes.
pub fn all_schemas() -> Vec<Json> {
    vec![core_user_schema(), enterprise_schema(), extension_schema()]
}

/// The `User` resource type: the core schema with the enterprise and wbxprov extensions.
pub fn user_resource_type() -> Json {
    json!({
        "schemas": [RESOURCE_TYPE],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A Webex Meetings site user",
        "schema": CORE,
        "schemaExtensions": [
            {"schema": ENTERPRISE, "required": false},
            {"schema": EXTENSION, "required": false},
        ],
        "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/User"},
    })
}

/// What the service supports (PATCH, filter, no bulk, sort or ETags …), as
/// `/ServiceProviderConfig` answers.
pub fn service_provider_config() -> Json {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "documentationUri": "https://github.com/wbxprov/wbxprov#scim",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": true},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A static bearer token (WBXPROV_SCIM_TOKEN)",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": "/ServiceProviderConfig"},
    })
}
