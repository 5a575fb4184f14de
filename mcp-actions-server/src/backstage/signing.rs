//! The key this server signs Backstage plugin tokens with: ES256 (what Backstage signs and
//! accepts). `mcpActions.backstage.signingKey` (a PKCS#8 PEM P-256 key) gives every replica
//! the same one, with the same `kid` (its RFC 7638 thumbprint); without it each process
//! generates its own with aws-lc-rs when first needed and keeps it in memory only.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_actions::ActionError;
use serde_json::{Value, json};

/// The DER inside a PKCS#8 PEM's armour.
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let pem = pem.trim();
    if !pem.starts_with("-----BEGIN PRIVATE KEY-----")
        || !pem.ends_with("-----END PRIVATE KEY-----")
    {
        return None;
    }
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// How long a token is valid (Backstage's own plugin tokens: one hour).
const TOKEN_LIFETIME_SECS: u64 = 3600;

/// The signing key and its public JWK.
pub(crate) struct Signer {
    kid: String,
    key: EncodingKey,
    jwk: Value,
}

impl Signer {
    /// A new key, with a random `kid`.
    pub(crate) fn generate() -> Result<Self, String> {
        let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
            &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
        );
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|e| format!("generating a P-256 key: {e}"))?;
        let key = EncodingKey::from_ec_der(pkcs8.as_ref());
        let mut id = [0u8; 12];
        getrandom::fill(&mut id).map_err(|e| format!("a random key id: {e}"))?;
        let kid: String = id.iter().map(|b| format!("{b:02x}")).collect();
        Self::with_key(key, Some(kid))
    }

    /// The key of a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) on the P-256 curve, its `kid`
    /// the RFC 7638 thumbprint of its public key, so that every replica given the same key
    /// publishes the same JWK. The error says what is wrong, never the key.
    pub(crate) fn from_pem(pem: &str) -> Result<Self, String> {
        const NOT_P256: &str = "is not a PKCS#8 PEM private key on the P-256 curve \
             (`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`)";
        let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
            &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
        );
        let der = pem_body(pem).ok_or(NOT_P256)?;
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).map_err(|_| NOT_P256)?;
        Self::with_key(EncodingKey::from_ec_der(&der), None)
    }

    /// `key` with `kid`, or its thumbprint.
    fn with_key(key: EncodingKey, kid: Option<String>) -> Result<Self, String> {
        let public = Jwk::from_encoding_key(&key, Algorithm::ES256)
            .map_err(|e| format!("the public key as a JWK: {e}"))?;
        let kid = match kid {
            Some(kid) => kid,
            None => public
                .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .map_err(|e| format!("the public key's thumbprint: {e}"))?,
        };
        let mut jwk =
            serde_json::to_value(public).map_err(|e| format!("the public key as JSON: {e}"))?;
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        jwk["alg"] = json!("ES256");
        Ok(Self { kid, key, jwk })
    }

    /// The public key, as a JWK.
    pub(crate) fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// A plugin token from `subject` (this server's plugin id) for `audience`; with `obo`, on
    /// behalf of the user of that (verified) limited user token, expiring with it at the latest.
    pub(crate) fn sign(
        &self,
        subject: &str,
        audience: &str,
        obo: Option<&str>,
    ) -> Result<String, ActionError> {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(crate::auth::PLUGIN_TOKEN_TYPE.to_owned());
        header.kid = Some(self.kid.clone());
        let mut exp = iat + TOKEN_LIFETIME_SECS;
        if let Some(obo) = obo {
            // Verified when the request came in: only its `exp` is read here.
            let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(obo)
                .map_err(|e| ActionError::internal(format!("the user's token: {e}")))?;
            let user_exp = claims["exp"].as_u64().unwrap_or(0);
            if user_exp <= iat {
                return Err(ActionError::authentication(
                    "the user's Backstage token has expired",
                ));
            }
            exp = exp.min(user_exp);
        }
        let mut claims = json!({
            "sub": subject,
            "aud": audience,
            "iat": iat,
            "exp": exp,
        });
        if let Some(obo) = obo {
            claims["obo"] = json!(obo);
        }
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| ActionError::internal(format!("signing a Backstage plugin token: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh P-256 key as a PKCS#8 PEM, as `openssl genpkey` writes it.
    fn new_pem() -> String {
        use base64::Engine as _;
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let body = base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn replicas_given_the_same_key_publish_the_same_jwk_and_verify_each_others_tokens() {
        let pem = new_pem();
        let (a, b) = (
            Signer::from_pem(&pem).unwrap(),
            Signer::from_pem(&pem).unwrap(),
        );
        assert_eq!(a.jwk(), b.jwk());
        assert_eq!(
            a.jwk()["kid"].as_str().unwrap().len(),
            43,
            "a SHA-256 thumbprint"
        );
        let token = a.sign("rust-actions", "catalog", None).unwrap();
        let jwk: Jwk = serde_json::from_value(b.jwk().clone()).unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
        validation.set_audience(&["catalog"]);
        assert!(jsonwebtoken::decode::<Value>(&token, &key, &validation).is_ok());
        let other = Signer::from_pem(&new_pem()).unwrap();
        assert_ne!(other.jwk()["kid"], a.jwk()["kid"]);
    }

    #[test]
    fn a_key_that_is_not_a_p256_pkcs8_pem_is_refused_without_quoting_it() {
        for bad in [
            "not a key",
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXZhbHVl\n-----END PRIVATE KEY-----\n",
        ] {
            let error = Signer::from_pem(bad).err().unwrap();
            assert!(error.contains("P-256"), "{error}");
            assert!(!error.contains("c2VjcmV0"), "{error}");
        }
    }

    #[test]
    fn a_signed_token_verifies_with_the_published_key() {
        let signer = Signer::generate().unwrap();
        let token = signer.sign("rust-actions", "catalog", None).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("vnd.backstage.plugin"));
        assert_eq!(header.alg, Algorithm::ES256);
        let jwk: Jwk = serde_json::from_value(signer.jwk().clone()).unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
        validation.set_audience(&["catalog"]);
        let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
            .unwrap()
            .claims;
        assert_eq!(claims["sub"], "rust-actions");
    }
}
