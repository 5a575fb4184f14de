//! The actions the fuzz targets call (plugin `fuzz`), and what the targets share.
//!
//! No action here panics: libfuzzer-sys aborts on any panic, even one the dispatcher would
//! catch, so a panic anywhere is a finding.

use std::collections::BTreeMap;

use mcp_actions::prelude::*;

/// An input with most shapes serde and schemars support, to exercise deserialization.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TypedInput {
    /// A string
    pub text: String,
    /// A small unsigned number
    pub small: u8,
    /// A signed number
    #[serde(default)]
    pub signed: Option<i64>,
    /// A float
    #[serde(default)]
    pub ratio: Option<f64>,
    /// A list of strings
    #[serde(default)]
    pub tags: Vec<String>,
    /// A map
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// A nested object that refuses unknown fields
    #[serde(default)]
    pub strict: Option<StrictPart>,
    /// A tagged enum
    #[serde(default)]
    pub shape: Option<Shape>,
    /// An untagged enum
    #[serde(default)]
    pub either: Option<Either>,
    /// Arbitrary JSON
    #[serde(default)]
    pub extra: Option<serde_json::Value>,
    /// Bytes as a list of numbers
    #[serde(default)]
    pub bytes: Option<Vec<u8>>,
    /// A char
    #[serde(default)]
    pub letter: Option<char>,
    /// A renamed field
    #[serde(default, rename = "renamed-field")]
    pub renamed: Option<bool>,
}

/// Refuses unknown fields.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StrictPart {
    /// A number
    pub n: u32,
    /// A nested list
    #[serde(default)]
    pub items: Vec<Vec<i32>>,
}

/// A tagged enum.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// A circle
    Circle {
        /// Radius
        radius: f64,
    },
    /// A square
    Square {
        /// Side
        side: u16,
    },
    /// Nothing
    Empty,
}

/// An untagged enum.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Either {
    /// A number
    Number(i32),
    /// A string
    Text(String),
    /// An object
    Object {
        /// A flag
        flag: bool,
    },
}

/// What the typed action returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TypedOutput {
    /// How many bytes of text
    pub text_len: usize,
    /// How many tags
    pub tags: usize,
}

/// Deserialize a rich input and summarize it.
#[action(plugin = "fuzz", title = "Typed", read_only)]
pub async fn fuzz_typed(input: TypedInput) -> Result<TypedOutput, ActionError> {
    Ok(TypedOutput {
        text_len: input.text.len(),
        tags: input.tags.len(),
    })
}

/// A strict top-level input.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StrictInput {
    /// A name
    pub name: String,
}

/// Echo the name back.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Echo {
    /// The name
    pub name: String,
}

/// Echo a name (unknown fields refused).
#[action(plugin = "fuzz", title = "Strict", read_only)]
pub async fn fuzz_strict(input: StrictInput) -> Result<Echo, ActionError> {
    if input.name.is_empty() {
        return Err(ActionError::input("name must not be empty"));
    }
    Ok(Echo { name: input.name })
}

/// Report progress once (so some responses are SSE streams), then finish.
#[action(plugin = "fuzz", title = "Progress", read_only)]
pub async fn fuzz_progress(ctx: &ActionContext) -> Result<Echo, ActionError> {
    ctx.progress(1.0, Some(1.0), Some("done")).await;
    Ok(Echo {
        name: "progress".to_owned(),
    })
}

/// The one static token of the HTTP target's server.
pub const TOKEN: &str = "fuzz-token-0123456789";

/// The HTTP target's server config.
pub const CONFIG: &str = "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: fuzz-token-0123456789, subject: fuzzer }\n      - type: static\n        options: { token: fuzz-restricted-token, subject: restricted }\n        accessRestrictions: [ { plugin: other } ]\nmcpActions:\n  limits:\n    maxRequestBodyBytes: 65536\n    actionTimeoutSeconds: 5\n";

/// `value` as a Base64-wrapped SEP-2243 header value (`=?base64?…?=`).
pub fn base64_header(value: &str) -> String {
    use base64::Engine;
    format!(
        "=?base64?{}?=",
        base64::engine::general_purpose::STANDARD.encode(value)
    )
}

/// `text` with the reference id of every internal error (`(ref 1a2b3c…`, random) blanked, so
/// that two answers to the same request compare equal.
pub fn without_references(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("(ref ") {
        out.push_str(&rest[..at + 5]);
        rest = &rest[at + 5..];
        let hex = rest.chars().take_while(char::is_ascii_hexdigit).count();
        out.push('…');
        rest = &rest[hex..];
    }
    out.push_str(rest);
    out
}
