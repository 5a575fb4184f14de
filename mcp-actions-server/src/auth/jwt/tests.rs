//! Unit tests of the claims → credentials mapping and the token shape check; verification over
//! HTTP with a real key set is in `tests/e2e/jwt.rs`, against a real provider in the interop
//! suite.

use serde_json::json;

use super::*;

fn claims(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

#[test]
fn the_caller_is_a_user_with_the_user_claim_and_a_service_without() {
    let issuer = JwtIssuer::new("https://idp").user_claim("preferred_username");
    let user = issuer
        .credentials(&claims(
            json!({ "sub": "1234", "preferred_username": "jane" }),
        ))
        .unwrap();
    assert_eq!(user.principal().to_string(), "user:default/jane");
    let service = issuer
        .credentials(&claims(json!({ "sub": "svc" })))
        .unwrap();
    assert_eq!(service.principal().to_string(), "service:external:svc");
    let prefixed = issuer.clone().subject_prefix("acme");
    let service = prefixed
        .credentials(&claims(json!({ "sub": "svc" })))
        .unwrap();
    assert_eq!(service.principal().to_string(), "service:external:acme:svc");
    // Backstage's user tokens: `sub` is already an entity ref.
    let backstage = JwtIssuer::new("https://backstage").user_claim("sub");
    let user = backstage
        .credentials(&claims(json!({ "sub": "user:default/jane" })))
        .unwrap();
    assert_eq!(user.principal().to_string(), "user:default/jane");
    assert_eq!(
        issuer.credentials(&claims(json!({}))).unwrap_err(),
        TokenRejection::MissingClaim("sub")
    );
}

#[test]
fn scopes_come_from_scope_and_scp() {
    assert_eq!(
        scopes(&claims(json!({ "scope": "a b  a", "scp": ["c", "b"] }))),
        ["a", "b", "c"]
    );
    assert_eq!(scopes(&claims(json!({ "scp": "x y" }))), ["x", "y"]);
    assert!(scopes(&claims(json!({ "scope": 3 }))).is_empty());
}

#[test]
fn only_three_base64url_parts_of_bounded_length_pass_the_shape_check() {
    assert!(check_shape("aGVhZA.cGF5bG9hZA.c2ln").is_ok());
    for bad in [
        "a.b", "a.b.c.d", "a..c", "a.b.", "a.b.c d", "a.b.c=", "a+b.c.d",
    ] {
        assert!(check_shape(bad).is_err(), "{bad}");
    }
    let long = format!("a.b.{}", "c".repeat(MAX_TOKEN_BYTES));
    assert_eq!(check_shape(&long), Err(TokenRejection::TooLong(long.len())));
}

#[test]
fn hmac_algorithms_are_never_accepted() {
    let issuer = JwtIssuer::new("https://idp").algorithms([Algorithm::HS256, Algorithm::ES256]);
    assert_eq!(issuer.algorithms, [Algorithm::ES256]);
    assert!(matches!(
        JwtAuthenticator::new([JwtIssuer::new("https://idp")]),
        Err(JwtConfigError::NoAudience(_))
    ));
    assert!(matches!(
        JwtAuthenticator::new([JwtIssuer::new("https://idp")
            .audiences(["https://mcp"])
            .algorithms([Algorithm::HS512])]),
        Err(JwtConfigError::NoAlgorithm(_))
    ));
}
