//! The key this server signs Backstage plugin tokens with: ES256 (what Backstage signs and
//! accepts), generated at start-up by aws-lc-rs and kept in memory only — so each process
//! (each replica) has its own, published at its own JWKS URL.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_actions::ActionError;
use serde_json::{Value, json};

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
        let mut jwk = serde_json::to_value(
            Jwk::from_encoding_key(&key, Algorithm::ES256)
                .map_err(|e| format!("the public key as a JWK: {e}"))?,
        )
        .map_err(|e| format!("the public key as JSON: {e}"))?;
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
