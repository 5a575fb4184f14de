//! Request bodies and answers that are not MCP results: the body limit, JSON-RPC errors for
//! bodies that are not one JSON-RPC request, and [`answer_early`], which keeps a keep-alive
//! connection usable when a request is answered before its body was read.

use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, Version, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use rmcp::model::ClientJsonRpcMessage;
use serde_json::{Value, json};

/// A request answered before its body was read keeps its connection when the body announced
/// is at most this long: the body is read (and dropped) in the background.
const DRAIN_MAX_BYTES: u64 = 64 * 1024;
/// How long such a background read waits for the rest of the body.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// JSON-RPC's "Invalid Request" (-32600), also used for the HTTP-level refusals.
pub(crate) const INVALID_REQUEST: i32 = -32600;
/// JSON-RPC's "Parse error".
const PARSE_ERROR: i32 = -32700;

/// The announced `Content-Length`, if it is a number.
pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// Whether the (first) `Content-Type` is `application/json`, parameters aside: the rule
/// rmcp's Streamable HTTP service applies.
pub(crate) fn content_type_is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            if value == "application/json" {
                return true; // what clients send
            }
            let essence = value.split_once(';').map_or(value, |(essence, _)| essence);
            essence.trim().eq_ignore_ascii_case("application/json")
        })
}

/// Finishes a request answered before its body was read.
///
/// HTTP/1.1 cannot tell where the next request on the connection starts until this body has
/// been read, and hyper closes the connection when the body is dropped unread, without telling
/// the client. So: a request without a body needs nothing; a body of known length up to 64 KiB
/// is read in the background (the connection stays usable for the next request); anything
/// else is answered with `Connection: close`, so a keep-alive client opens a new connection
/// instead of failing its next request.
pub(crate) fn answer_early(
    version: Version,
    headers: &HeaderMap,
    body: Body,
    mut response: Response,
) -> Response {
    if body.is_end_stream() {
        return response;
    }
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    match content_length(headers) {
        Some(0) if !chunked => {}
        Some(length) if !chunked && length <= DRAIN_MAX_BYTES => {
            tokio::spawn(async move {
                let mut data = body.into_data_stream();
                let drain = async { while let Some(Ok(_)) = data.next().await {} };
                let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
            });
        }
        _ => close_connection(version, &mut response),
    }
    response
}

/// Asks an HTTP/1 client to open a new connection for its next request (HTTP/2 and later have
/// no `Connection` header, and need none: streams are framed).
fn close_connection(version: Version, response: &mut Response) {
    if version <= Version::HTTP_11 {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
}

/// A JSON-RPC error answer with no request id (the request was not read, or not understood).
pub(crate) fn json_rpc_error(status: StatusCode, code: i32, message: String) -> Response {
    let body = json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": code, "message": message },
    });
    (status, axum::Json(body)).into_response()
}

/// The answer to a body over `maxRequestBodyBytes`.
fn too_large(limit: usize) -> Response {
    json_rpc_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        INVALID_REQUEST,
        format!(
            "the request body is larger than {limit} bytes (mcpActions.limits.maxRequestBodyBytes)"
        ),
    )
}

/// Reads the body of an MCP POST before rmcp does: over `limit` → 413 with a JSON-RPC error
/// body, from `Content-Length` before any of the body is read, else as soon as the bytes
/// read cross the limit (never read whole; the connection is then closed).
pub(crate) async fn read_body(limit: usize, request: Request) -> Result<(Parts, Bytes), Response> {
    let (parts, body) = request.into_parts();
    if content_length(&parts.headers).is_some_and(|length| length > limit as u64) {
        return Err(answer_early(
            parts.version,
            &parts.headers,
            body,
            too_large(limit),
        ));
    }
    match Limited::new(body, limit).collect().await {
        // One chunk (the usual case) is not copied.
        Ok(collected) => Ok((parts, collected.to_bytes())),
        Err(error) if error.is::<LengthLimitError>() => {
            // The rest is not read: the connection cannot be reused.
            let mut response = too_large(limit);
            close_connection(parts.version, &mut response);
            Err(response)
        }
        Err(error) => {
            tracing::debug!(%error, "could not read a request body");
            Err(json_rpc_error(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                format!("the request body could not be read: {error}"),
            ))
        }
    }
}

/// The JSON-RPC error for a body that is not one JSON-RPC request: HTTP 400 with -32700
/// (Parse error) for a body that is not JSON, -32600 (Invalid Request) for JSON that is not a
/// JSON-RPC request.
pub(crate) fn invalid_message(body: &[u8]) -> Response {
    let value = match serde_json::from_slice::<Value>(body) {
        Ok(value) => value,
        Err(error) => {
            return json_rpc_error(
                StatusCode::BAD_REQUEST,
                PARSE_ERROR,
                cap(&format!("Parse error: the body is not JSON: {error}")),
            );
        }
    };
    let reason = match serde_json::from_value::<ClientJsonRpcMessage>(value.clone()) {
        Err(error) if value.is_array() => {
            format!("batches are not supported: send one message per request ({error})")
        }
        Err(error) => error.to_string(),
        Ok(_) => "not a JSON-RPC request this server accepts".to_owned(),
    };
    // Echo a well-formed id, so the client can match the answer; else `null`.
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_i64())
        .cloned()
        .unwrap_or(Value::Null);
    let body = json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {
            "code": INVALID_REQUEST,
            "message": cap(&format!(
                "Invalid Request: the body is not a JSON-RPC 2.0 request: {reason}"
            )),
        },
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn cap(message: &str) -> String {
    mcp_actions::error::cap_message(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn json_of(response: Response) -> (StatusCode, Value) {
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn bodies_that_are_not_json_rpc_get_json_rpc_errors() {
        let (status, body) = json_of(invalid_message(b"hello")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], PARSE_ERROR);
        assert_eq!(body["id"], Value::Null);
        let (status, body) =
            json_of(invalid_message(br#"{"jsonrpc":"1.0","id":7,"method":"x"}"#)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], INVALID_REQUEST);
        assert_eq!(body["id"], 7, "a well-formed id is echoed");
        let (_, body) = json_of(invalid_message(br#"{"id":{"an":"object"}}"#)).await;
        assert_eq!(body["id"], Value::Null);
        let (_, body) = json_of(invalid_message(b"[]")).await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("batches are not supported"),
            "{body}"
        );
    }
}
