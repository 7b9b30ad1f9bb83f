//! Authentication (EKS bearer tokens) and a simple authorization rule (which signers may call).

pub mod token;

use std::collections::BTreeSet;
use std::time::SystemTime;

use http::HeaderMap;

use crate::api::status::{ApiError, Reason};
use crate::kind::Kind;
use token::{Caller, TokenError, TokenVerifier};

#[derive(Clone, Debug)]
pub struct Authenticator {
    verifier: TokenVerifier,
    /// `None`: every valid signer is allowed.
    authorized: Option<BTreeSet<String>>,
}

impl Authenticator {
    pub fn new(verifier: TokenVerifier, authorized: Option<BTreeSet<String>>) -> Self {
        Self { verifier, authorized }
    }

    /// The caller of a request with `Authorization: Bearer <token>`, or 401.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let token = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer ").map(str::trim))
            .ok_or(TokenError::Missing);
        let result = token.and_then(|token| self.verifier.verify(token, SystemTime::now()));
        result.map_err(|error| {
            tracing::info!(%error, "rejected a bearer token");
            ApiError::new(Reason::Unauthorized, format!("Unauthorized: {error}"))
        })
    }

    /// 403 unless the caller may use the API.
    pub fn authorize(&self, caller: &Caller, verb: &str, kind: Kind, namespace: &str) -> Result<(), ApiError> {
        let allowed = self
            .authorized
            .as_ref()
            .is_none_or(|keys| keys.contains(&caller.access_key_id));
        if allowed {
            return Ok(());
        }
        let scope = if namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace \"{namespace}\"")
        };
        Err(ApiError::new(
            Reason::Forbidden,
            format!(
                "{} is forbidden: User \"{}\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
                kind.plural(),
                caller.access_key_id,
                kind.plural(),
                kind.group()
            ),
        ))
    }
}
