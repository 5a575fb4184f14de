//! [`Secret`]: a string that is compared, never shown.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What is shown instead of a secret (the effective configuration, `Debug`).
pub(crate) const MASK: &str = "***";

/// A secret string (an access token): compared by the authenticator, never printed by `Debug`
/// and serialized as `***`, so the effective configuration shows that it is set, not what it
/// is.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Not `String::deserialize`: its error would quote a number or boolean written there.
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(secret) => Ok(Secret(secret)),
            other => Err(serde::de::Error::custom(format!(
                "expected a string, got {} (quote it)",
                super::shapes::kind_of(&other)
            ))),
        }
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

impl schemars::JsonSchema for Secret {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secret".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "writeOnly": true })
    }
}
