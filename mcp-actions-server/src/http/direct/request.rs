//! Reading the body of a request the direct path may answer: the plain JSON-RPC shape, its
//! `params`, and the `_meta` 2026-07-28 requires, each read with rmcp's own types. Anything
//! that does not read is left to rmcp.

use rmcp::model::{ClientCapabilities, Implementation, ProtocolVersion, RequestId};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The `name` and `arguments` of `tools/call` parameters, taken out of them; `None` when they
/// are not a string and an object (rmcp answers those).
pub(crate) fn take_call(params: &mut Map<String, Value>) -> Option<(String, Option<Value>)> {
    let Some(Value::String(name)) = params.remove("name") else {
        return None;
    };
    let arguments = match params.remove("arguments") {
        None => None,
        Some(Value::Object(arguments)) => Some(Value::Object(arguments)),
        Some(_) => return None,
    };
    Some((name, arguments))
}

/// The `_meta` of a 2026-07-28 request answered here: what that revision requires, the
/// client's info, the trace context, and nothing else (a progress token, a log level or
/// anything else is rmcp's). Each value is read with rmcp's own type, as rmcp's
/// `RequestMetaObject` accessors read it; a value that does not read is left to rmcp, which
/// answers it as missing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlainMeta {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion")]
    pub(super) protocol_version: ProtocolVersion,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities")]
    pub(super) client_capabilities: ClientCapabilities,
    /// Checked, not used: a `clientInfo` must read as rmcp's `Implementation`.
    #[serde(
        rename = "io.modelcontextprotocol/clientInfo",
        default,
        deserialize_with = "present"
    )]
    #[allow(dead_code)]
    client_info: Option<Implementation>,
    #[serde(default, deserialize_with = "present")]
    pub(super) traceparent: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(super) tracestate: Option<String>,
}

/// A JSON-RPC request of the plain form: nothing but these four members.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlainRequest {
    jsonrpc: String,
    pub(super) id: RequestId,
    pub(super) method: String,
    /// `None` when absent; `"params": null` or any other value but an object does not read.
    #[serde(default, deserialize_with = "present")]
    pub(super) params: Option<PlainParams>,
}

impl PlainRequest {
    /// `body` read, or `None` when it is not a JSON-RPC 2.0 request of the plain form (a
    /// derived struct also reads from an array, which a request — not a batch — is not).
    pub(super) fn parse(body: &[u8]) -> Option<Self> {
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return None;
        }
        let request: Self = serde_json::from_slice(body).ok()?;
        (request.jsonrpc == "2.0").then_some(request)
    }
}

/// A request's `params` object: its `_meta`, which must be a [`PlainMeta`] (only 2026-07-28
/// requests have one here), and the other members.
pub(super) struct PlainParams {
    pub(super) meta: Option<PlainMeta>,
    pub(super) rest: Map<String, Value>,
}

impl<'de> Deserialize<'de> for PlainParams {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = PlainParams;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut params = PlainParams {
                    meta: None,
                    rest: Map::new(),
                };
                while let Some(key) = map.next_key::<String>()? {
                    if key == "_meta" {
                        if params.meta.is_some() {
                            return Err(serde::de::Error::duplicate_field("_meta"));
                        }
                        params.meta = Some(map.next_value::<ObjectOnly<PlainMeta>>()?.0);
                    } else {
                        params.rest.insert(key, map.next_value()?);
                    }
                }
                Ok(params)
            }
        }
        deserializer.deserialize_map(Members)
    }
}

/// A `T` read from a JSON object only (a derived struct also reads from an array).
pub(super) struct ObjectOnly<T>(pub(super) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Object<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(Object(std::marker::PhantomData))
            .map(ObjectOnly)
    }
}

/// A member that is present: `Some` of its value, which must read as `T` (`null` included).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}
