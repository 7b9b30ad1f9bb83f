//! EKS bearer tokens checked the way aws-iam-authenticator does
//! (`pkg/token/token.go`: `k8s-aws-v1.` + base64url of a pre-signed STS `GetCallerIdentity` URL),
//! except that the signature is recomputed locally with the configured secrets instead of sending
//! the URL to STS.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const PREFIX: &str = "k8s-aws-v1.";
const MAX_TOKEN_BYTES: usize = 4096;
const MAX_EXPIRES_SECONDS: u64 = 900;
/// A token is valid this long after `X-Amz-Date`, whatever `X-Amz-Expires` says.
const VALIDITY: Duration = Duration::from_secs(15 * 60);
const CLUSTER_HEADER: &str = "x-k8s-aws-id";
/// The request's own parameters; with [`SIGNING_PARAMS`], every parameter a token may carry.
const REQUEST_PARAMS: [&str; 2] = ["action", "version"];
/// The parameters the signer adds to the URL it signs.
const SIGNING_PARAMS: [&str; 7] = [
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-signedheaders",
];

/// Which check a token failed. The messages never contain the token or its signature.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the request has no bearer token")]
    Missing,
    #[error("the token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("the token does not start with {PREFIX}")]
    Prefix,
    #[error("the token is not base64url without padding")]
    NotBase64,
    #[error("the token is not a pre-signed URL")]
    NotUrl,
    #[error("the pre-signed URL's scheme is not https")]
    NotHttps,
    #[error("the pre-signed URL's host {0:?} is not an STS endpoint (sts.<region>.amazonaws.com)")]
    Host(String),
    #[error("the pre-signed URL's path is not /")]
    Path,
    #[error("the pre-signed URL has the non-whitelisted query parameter {0:?}")]
    ParamNotAllowed(String),
    #[error("the pre-signed URL has the query parameter {0:?} more than once")]
    ParamRepeated(String),
    #[error("the pre-signed URL has no {0} parameter")]
    ParamMissing(&'static str),
    #[error("the pre-signed URL's Action is not GetCallerIdentity")]
    Action,
    #[error("x-k8s-aws-id is not among the signed headers (X-Amz-SignedHeaders)")]
    ClusterHeaderNotSigned,
    #[error("X-Amz-Expires is not a number of seconds between 0 and {MAX_EXPIRES_SECONDS}")]
    Expires,
    #[error("X-Amz-Date is not a date like 20240102T030405Z")]
    Date,
    #[error("the token has expired: X-Amz-Date is more than 15 minutes old")]
    Expired,
    #[error("the token is not valid yet: X-Amz-Date is more than 15 minutes in the future")]
    NotYetValid,
    #[error("X-Amz-Algorithm is not AWS4-HMAC-SHA256")]
    Algorithm,
    #[error("X-Amz-Credential is not <access key>/<date>/<region>/sts/aws4_request for the X-Amz-Date")]
    Credential,
    #[error("unknown access key {0}")]
    UnknownAccessKey(String),
    #[error(
        "the signature does not match: the token was not signed for cluster {cluster:?} with the secret of access key {access_key}"
    )]
    Signature { cluster: String, access_key: String },
    #[error("the signature can't be recomputed: {0}")]
    Signing(String),
}

/// Who signed a valid token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub access_key_id: String,
}

/// Verifies tokens for one cluster with a set of known credentials.
#[derive(Clone, Debug)]
pub struct TokenVerifier {
    cluster_name: String,
    secrets: HashMap<String, String>,
}

/// The query of a token's URL, decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn get(&self, name: &'static str) -> Result<&str, TokenError> {
        self.0
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .ok_or(TokenError::ParamMissing(name))
    }
}

impl TokenVerifier {
    /// `credentials`: access key id → secret access key.
    pub fn new(cluster_name: &str, credentials: &[(String, String)]) -> Self {
        Self {
            cluster_name: cluster_name.to_string(),
            secrets: credentials.iter().cloned().collect(),
        }
    }

    /// Checks `token` at time `now`.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<Caller, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLong);
        }
        let encoded = token.strip_prefix(PREFIX).ok_or(TokenError::Prefix)?;
        let url = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| TokenError::NotBase64)?;
        let url = String::from_utf8(url).map_err(|_| TokenError::NotUrl)?;
        let uri: http::Uri = url.parse().map_err(|_| TokenError::NotUrl)?;
        if uri.scheme_str() != Some("https") {
            return Err(TokenError::NotHttps);
        }
        let host = uri.authority().map(|a| a.as_str()).unwrap_or_default().to_string();
        if !is_sts_host(&host) {
            return Err(TokenError::Host(host));
        }
        if uri.path() != "/" {
            return Err(TokenError::Path);
        }
        let query = parse_query(uri.query().unwrap_or_default())?;
        if query.get("action")? != "GetCallerIdentity" {
            return Err(TokenError::Action);
        }
        let signed_headers = query.get("x-amz-signedheaders")?;
        if !signed_headers
            .split(';')
            .any(|h| h.eq_ignore_ascii_case(CLUSTER_HEADER))
        {
            return Err(TokenError::ClusterHeaderNotSigned);
        }
        let expires: u64 = query.get("x-amz-expires")?.parse().map_err(|_| TokenError::Expires)?;
        if expires > MAX_EXPIRES_SECONDS {
            return Err(TokenError::Expires);
        }
        let signed_at = parse_amz_date(query.get("x-amz-date")?)?;
        check_freshness(signed_at, now)?;
        if query.get("x-amz-algorithm")? != "AWS4-HMAC-SHA256" {
            return Err(TokenError::Algorithm);
        }
        let scope = CredentialScope::parse(query.get("x-amz-credential")?, query.get("x-amz-date")?)?;
        let secret = self
            .secrets
            .get(&scope.access_key)
            .ok_or_else(|| TokenError::UnknownAccessKey(scope.access_key.clone()))?;
        let expected = self.signature(&host, &query, &scope, secret, expires, signed_at)?;
        if !constant_time_eq(expected.as_bytes(), query.get("x-amz-signature")?.as_bytes()) {
            return Err(TokenError::Signature {
                cluster: self.cluster_name.clone(),
                access_key: scope.access_key,
            });
        }
        Ok(Caller {
            access_key_id: scope.access_key,
        })
    }

    /// Pre-signs the same request again, with this cluster's name in `x-k8s-aws-id`.
    fn signature(
        &self,
        host: &str,
        query: &Query,
        scope: &CredentialScope,
        secret: &str,
        expires: u64,
        signed_at: SystemTime,
    ) -> Result<String, TokenError> {
        let mut unsigned = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &query.0 {
            if !SIGNING_PARAMS.contains(&key.to_ascii_lowercase().as_str()) {
                unsigned.append_pair(key, value);
            }
        }
        let url = format!("https://{host}/?{}", unsigned.finish());
        let session_token = query.get("x-amz-security-token").ok().map(str::to_string);
        let identity: Identity =
            Credentials::new(&scope.access_key, secret, session_token, None, "fake-kube-apiserver").into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(expires));
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&scope.region)
            .name("sts")
            .time(signed_at)
            .settings(settings)
            .build()
            .map_err(|e| TokenError::Signing(e.to_string()))?
            .into();
        let headers = [(CLUSTER_HEADER, self.cluster_name.as_str())];
        let request = SignableRequest::new("GET", url, headers.into_iter(), SignableBody::Bytes(&[]))
            .map_err(|e| TokenError::Signing(e.to_string()))?;
        let output = sign(request, &params).map_err(|e| TokenError::Signing(e.to_string()))?;
        Ok(output.signature().to_string())
    }
}

/// `sts.amazonaws.com`, `sts.<region>.amazonaws.com` (or `.amazonaws.com.cn`).
fn is_sts_host(host: &str) -> bool {
    let Some(rest) = host.strip_prefix("sts.") else {
        return false;
    };
    let Some(region) = rest
        .strip_suffix("amazonaws.com")
        .or_else(|| rest.strip_suffix("amazonaws.com.cn"))
    else {
        return false;
    };
    region.is_empty()
        || region.strip_suffix('.').is_some_and(|r| {
            !r.is_empty()
                && r.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// Only whitelisted parameters (case-insensitive), each once.
fn parse_query(query: &str) -> Result<Query, TokenError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    for (i, (key, _)) in pairs.iter().enumerate() {
        let lower = key.to_ascii_lowercase();
        if !REQUEST_PARAMS.contains(&lower.as_str()) && !SIGNING_PARAMS.contains(&lower.as_str()) {
            return Err(TokenError::ParamNotAllowed(key.clone()));
        }
        if pairs[..i].iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Err(TokenError::ParamRepeated(key.clone()));
        }
    }
    Ok(Query(pairs))
}

fn parse_amz_date(date: &str) -> Result<SystemTime, TokenError> {
    let civil = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", date).map_err(|_| TokenError::Date)?;
    let timestamp = civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|_| TokenError::Date)?
        .timestamp();
    Ok(SystemTime::from(timestamp))
}

fn check_freshness(signed_at: SystemTime, now: SystemTime) -> Result<(), TokenError> {
    match now.duration_since(signed_at) {
        Ok(age) if age > VALIDITY => Err(TokenError::Expired),
        Ok(_) => Ok(()),
        Err(ahead) if ahead.duration() > VALIDITY => Err(TokenError::NotYetValid),
        Err(_) => Ok(()),
    }
}

/// `AKID/20240102/us-east-1/sts/aws4_request`.
struct CredentialScope {
    access_key: String,
    region: String,
}

impl CredentialScope {
    fn parse(credential: &str, amz_date: &str) -> Result<Self, TokenError> {
        let parts: Vec<&str> = credential.split('/').collect();
        match parts.as_slice() {
            [access_key, date, region, "sts", "aws4_request"]
                if !access_key.is_empty() && !region.is_empty() && amz_date.starts_with(date) && date.len() == 8 =>
            {
                Ok(Self {
                    access_key: access_key.to_string(),
                    region: region.to_string(),
                })
            }
            _ => Err(TokenError::Credential),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
