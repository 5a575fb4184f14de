//! Who may call: `backend.auth` (Backstage's external access: static tokens and JWTs verified
//! against a JWKS) and `mcpActions.auth` (the OAuth scopes JWT callers need).

use mcp_actions::filter::{AttributeMatch, FilterError, FilterRule, ScopeRules};
use mcp_actions::{AccessRestriction, Credentials, PermissionAction};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::secret::Secret;
use super::shapes::{self, OneOrMany};

/// The signing algorithms a `type: jwks` entry may accept: the asymmetric ones.
pub(crate) const JWT_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// `backend.auth`: the keys this crate reads. Backstage's other keys of this section are
/// accepted and left alone; anything else is a typo, and an error.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuthConfig {
    /// Access for callers outside Backstage: `type: static` entries with `options: { token,
    /// subject }` (a token of 8 or more characters, no spaces, unique; compared in constant
    /// time, never logged), `type: jwks` entries with `options: { issuer, url, audience,
    /// algorithm, subjectPrefix, userClaim, leewaySeconds }` (JWT access tokens of an identity
    /// provider), and optional `accessRestrictions` (`[{ plugin, permission,
    /// permissionAttribute: { action } }]`). None: the token in `MCP_TOKEN`, or one generated
    /// and printed at start-up.
    pub external_access: Vec<ExternalAccessConfig>,
    // Backstage's own keys of `backend.auth`, accepted (so that a Backstage `app-config.yaml`
    // loads as it is) and not used. Not `#[serde(flatten)]`: serde then accepts any key.
    #[serde(skip_serializing)]
    #[schemars(skip)]
    keys: Option<serde_json::Value>,
    #[serde(skip_serializing)]
    #[schemars(skip)]
    dangerously_disable_default_auth_policy: Option<serde_json::Value>,
    #[serde(skip_serializing)]
    #[schemars(skip)]
    plugin_key_store: Option<serde_json::Value>,
    #[serde(skip_serializing)]
    #[schemars(skip)]
    omit_identity_token_ownership_claim: Option<serde_json::Value>,
}

impl AuthConfig {
    /// The `type: static` entries.
    pub fn static_entries(&self) -> impl Iterator<Item = &ExternalAccessConfig> {
        self.external_access
            .iter()
            .filter(|e| e.kind == ExternalAccessType::Static)
    }

    /// The `type: jwks` entries.
    pub fn jwks_entries(&self) -> impl Iterator<Item = &ExternalAccessConfig> {
        self.external_access
            .iter()
            .filter(|e| e.kind == ExternalAccessType::Jwks)
    }
}

/// The `type` of an external access entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ExternalAccessType {
    /// A static bearer token.
    Static,
    /// JWT access tokens of an identity provider, verified with its published keys.
    Jwks,
}

/// One entry of `backend.auth.externalAccess`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExternalAccessConfig {
    /// The kind of access: `static` or `jwks`.
    #[serde(rename = "type")]
    pub kind: ExternalAccessType,
    /// The entry's options; which keys apply depends on `type`.
    pub options: ExternalAccessOptions,
    /// What the caller may reach; absent: everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_restrictions: Option<Vec<AccessRestrictionConfig>>,
}

impl ExternalAccessConfig {
    /// A `type: static` entry for `token`, whose caller is `Principal::Service { subject }`.
    pub fn static_token(token: Secret, subject: impl Into<String>) -> Self {
        Self {
            kind: ExternalAccessType::Static,
            options: ExternalAccessOptions {
                token: Some(token),
                subject: Some(subject.into()),
                ..ExternalAccessOptions::default()
            },
            access_restrictions: None,
        }
    }

    /// The caller a static entry authenticates: `Principal::Service { subject }` with the
    /// entry's access restrictions.
    pub fn credentials(&self) -> Credentials {
        let subject = self.options.subject.clone().unwrap_or_default();
        self.restrict(Credentials::service(subject))
    }

    /// `credentials` with this entry's access restrictions, if it has any.
    pub fn restrict(&self, credentials: Credentials) -> Credentials {
        match &self.access_restrictions {
            Some(restrictions) => credentials.with_restrictions(
                restrictions
                    .iter()
                    .map(AccessRestrictionConfig::restriction),
            ),
            None => credentials,
        }
    }
}

/// `options` of an external access entry. `static` entries use `token` and `subject`; `jwks`
/// entries use the others (Backstage's `url`, `issuer`, `audience`, `algorithm`,
/// `subjectPrefix`, and this crate's `userClaim` and `leewaySeconds`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExternalAccessOptions {
    /// `static`: the token clients send as `Authorization: Bearer <token>`: 8 or more
    /// characters, no whitespace, unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// `static`: the subject the caller is known by (`Principal::Service { subject }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `jwks`: the URL of the identity provider's JSON Web Key Set. Absent: the `jwks_uri` of
    /// the issuer's OpenID Connect discovery or RFC 8414 metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `jwks`: the token's `iss`, exactly (one or a list; required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<OneOrMany<String>>,
    /// `jwks`: accepted `aud` values (one or a list). Absent: this server's MCP endpoint URLs
    /// (RFC 8707), so a token minted for another resource is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<OneOrMany<String>>,
    /// `jwks`: accepted signing algorithms (one or a list of `RS256`, `RS384`, `RS512`,
    /// `PS256`, `PS384`, `PS512`, `ES256`, `ES384`, `EdDSA`). Absent: all of them. HMAC
    /// algorithms and `none` are never accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<OneOrMany<String>>,
    /// `jwks`: a caller without `userClaim` is the service `external:<subjectPrefix>:<sub>`
    /// (`external:<sub>` without a prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_prefix: Option<String>,
    /// `jwks`: when the token has this claim, the caller is a user: `user:default/<value>`, or
    /// the value itself when it is already an entity ref (`user:default/jane`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_claim: Option<String>,
    /// `jwks`: clock skew allowed when checking `exp`, `nbf` and `iat`, in seconds (default 60).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "shapes::optional_whole_number"
    )]
    #[schemars(with = "Option<u64>")]
    pub leeway_seconds: Option<u64>,
}

/// One of `accessRestrictions`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct AccessRestrictionConfig {
    /// The plugin the token may reach.
    pub plugin: String,
    /// Only these permissions (by name) may be used on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<OneOrMany<String>>,
    /// Only permissions with these attributes may be used on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_attribute: Option<PermissionAttributeConfig>,
}

/// `permissionAttribute` of an access restriction.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PermissionAttributeConfig {
    /// `read`, `create`, `update`, `delete`: one or a list.
    #[schemars(with = "OneOrMany<String>")]
    pub action: OneOrMany<PermissionAction>,
}

impl AccessRestrictionConfig {
    /// The restriction as the core crate checks it.
    pub fn restriction(&self) -> AccessRestriction {
        let mut restriction = AccessRestriction::plugin(self.plugin.clone());
        if let Some(OneOrMany(names)) = &self.permission {
            restriction = restriction.with_permissions(names.iter().cloned());
        }
        if let Some(attribute) = &self.permission_attribute {
            restriction = restriction.with_actions(attribute.action.0.iter().copied());
        }
        restriction
    }
}

/// `mcpActions.auth`: the OAuth scopes callers with a JWT need. Static tokens are governed by
/// their `accessRestrictions`, not by scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct McpAuthConfig {
    /// Scopes every JWT request needs; a token without them is answered 403
    /// `insufficient_scope`.
    pub required_scopes: Vec<String>,
    /// Scopes per action: rules shaped like `backend.actions.filter`'s (`id` glob and/or
    /// `attributes`) with the `scopes` the matching actions need. An action needs the scopes
    /// of every rule it matches; `tools/list` hides it from a token without them, and
    /// `tools/call` answers 403 `insufficient_scope` naming them.
    pub action_scopes: Vec<ActionScopeRule>,
}

impl McpAuthConfig {
    /// The compiled `actionScopes`.
    pub fn compile(&self) -> Result<ScopeRules, FilterError> {
        ScopeRules::new(
            self.action_scopes
                .iter()
                .map(|rule| (rule.filter_rule(), rule.scopes.0.clone())),
        )
    }
}

/// One of `mcpActions.auth.actionScopes`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ActionScopeRule {
    /// A glob on the action id `plugin:name`, e.g. `catalog:*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Attribute conditions: `{ readOnly, destructive, idempotent }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<AttributeConditions>,
    /// The scopes the matching actions need (one or a list).
    pub scopes: OneOrMany<String>,
}

impl ActionScopeRule {
    fn filter_rule(&self) -> FilterRule {
        FilterRule {
            id: self.id.clone(),
            attributes: self.attributes.map(|a| AttributeMatch {
                read_only: a.read_only,
                destructive: a.destructive,
                idempotent: a.idempotent,
            }),
        }
    }
}

/// The attribute conditions of a rule; every one that is set must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct AttributeConditions {
    /// `readOnly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// `destructive` (after defaults: `!readOnly` unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive: Option<bool>,
    /// `idempotent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
}
