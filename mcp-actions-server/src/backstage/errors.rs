//! Errors as Backstage's backends answer them: the `ErrorResponseBody`
//! `{"error":{"name","message"},"request":{"method","url"},"response":{"statusCode"}}` with
//! the status of the error's name (`MiddlewareFactory`'s mapping), which Backstage's
//! `ResponseError.fromResponse` parses back into the named error. An internal error's details
//! stay in the log: the body has its reference only.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, Uri, header};
use mcp_actions::{ActionError, ErrorKind};
use serde_json::json;

/// The status Backstage answers an error of `kind` with.
pub(crate) fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InputError => StatusCode::BAD_REQUEST,
        ErrorKind::AuthenticationError => StatusCode::UNAUTHORIZED,
        ErrorKind::NotAllowedError => StatusCode::FORBIDDEN,
        ErrorKind::NotFoundError => StatusCode::NOT_FOUND,
        ErrorKind::ConflictError => StatusCode::CONFLICT,
        ErrorKind::NotModifiedError => StatusCode::NOT_MODIFIED,
        ErrorKind::NotImplementedError => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::ServiceUnavailableError => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The error kind of a Backstage error name (the inverse of [`status_of`]'s names); any other
/// name is `None`.
#[cfg(test)]
pub(crate) fn kind_of(name: &str) -> Option<ErrorKind> {
    ErrorKind::ALL
        .into_iter()
        .find(|k| *k != ErrorKind::InternalError && k.name() == name)
}

/// The answer to `method uri` failing with `error`.
pub(crate) fn error_response(method: &Method, uri: &Uri, error: &ActionError) -> Response {
    let status = status_of(error.kind());
    let (name, message) = match error.reference() {
        Some(reference) => (
            "InternalError",
            format!("the action failed unexpectedly (ref {reference})"),
        ),
        None => (error.name(), error.message().to_owned()),
    };
    body(status, method, uri, name, &message)
}

/// A Backstage error body with this status, name and message.
pub(crate) fn body(
    status: StatusCode,
    method: &Method,
    uri: &Uri,
    name: &str,
    message: &str,
) -> Response {
    let body = json!({
        "error": { "name": name, "message": message },
        // The path only: a query string could carry anything.
        "request": { "method": method.as_str(), "url": uri.path() },
        "response": { "statusCode": status.as_u16() },
    });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_as_backstage_and_back() {
        let expected = [
            (ErrorKind::InputError, 400),
            (ErrorKind::AuthenticationError, 401),
            (ErrorKind::NotAllowedError, 403),
            (ErrorKind::NotFoundError, 404),
            (ErrorKind::ConflictError, 409),
            (ErrorKind::NotModifiedError, 304),
            (ErrorKind::NotImplementedError, 501),
            (ErrorKind::ServiceUnavailableError, 503),
            (ErrorKind::InternalError, 500),
        ];
        for (kind, status) in expected {
            assert_eq!(status_of(kind).as_u16(), status, "{kind:?}");
            let back = kind_of(kind.name());
            if kind == ErrorKind::InternalError {
                assert_eq!(back, None);
            } else {
                assert_eq!(back, Some(kind));
            }
        }
        assert_eq!(kind_of("ResponseError"), None);
    }

    #[tokio::test]
    async fn an_internal_error_body_has_its_reference_only() {
        let error = ActionError::internal("db password is hunter2");
        let reference = error.reference().unwrap().to_owned();
        let uri: Uri = "/api/p/.backstage/actions/v1/actions/p%3Ax/invoke?secret=1"
            .parse()
            .unwrap();
        let response = error_response(&Method::POST, &uri, &error);
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains("secret"),
            "{text}"
        );
        assert!(text.contains(&reference), "{text}");
    }
}
