//! `jwt-fixture <issuer> <audience> <count>`: an ES256 key's JWKS and `count` tokens for
//! `audience` with the scope `mcp`, as `{"jwks": {…}, "tokens": ["…", …]}` on stdout.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [issuer, audience, count] = args.as_slice() else {
        eprintln!("usage: jwt-fixture <issuer> <audience> <count>");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("count is a number");
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .expect("a P-256 key");
    let key = EncodingKey::from_ec_der(pkcs8.as_ref());
    let mut jwk = serde_json::to_value(Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap())
        .expect("JWK as JSON");
    jwk["kid"] = json!("bench-key");
    jwk["use"] = json!("sig");
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("bench-key".into());
    header.typ = Some("at+jwt".into());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let tokens: Vec<String> = (0..count)
        .map(|i| {
            let claims = json!({
                "iss": issuer, "aud": audience, "sub": "bench-client", "scope": "mcp",
                "iat": now, "exp": now + 86_400, "jti": format!("bench-{i}"),
            });
            jsonwebtoken::encode(&header, &claims, &key).expect("sign")
        })
        .collect();
    println!("{}", json!({ "jwks": { "keys": [jwk] }, "tokens": tokens }));
}
