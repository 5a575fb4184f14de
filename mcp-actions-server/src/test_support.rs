//! Hand-built actions for this crate's unit tests.

use mcp_actions::Registry;
use mcp_actions::schema::{JsonObject, SchemaError};
pub(crate) use mcp_actions::testing::object_schema;

/// A registry of one action, `test:echo`, which returns its input, with this output schema.
pub(crate) fn echo_registry(output_schema: fn() -> Result<JsonObject, SchemaError>) -> Registry {
    let echo = mcp_actions::testing::descriptor("test", "echo")
        .title("Echo")
        .description("Returns its input.")
        .output_schema(output_schema)
        .build();
    Registry::from_descriptors([echo]).unwrap()
}

/// The head of a request with this `Authorization` header, if any.
pub(crate) fn request_head(authorization: Option<&str>) -> http::request::Parts {
    let mut builder = http::Request::builder().uri("/");
    if let Some(value) = authorization {
        builder = builder.header(http::header::AUTHORIZATION, value);
    }
    builder.body(()).unwrap().into_parts().0
}
