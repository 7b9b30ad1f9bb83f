//! The EKS bearer token, as `aws eks get-token` makes it: a presigned STS `GetCallerIdentity` URL
//! whose signature covers the header `x-k8s-aws-id: <cluster>`. The cluster's authenticator
//! replays the URL to STS to learn the caller, so the token proves the workflow's IAM identity to
//! that one cluster only. Format: `kubernetes-sigs/aws-iam-authenticator` `pkg/token/token.go`.

use crate::error::{Result, WorkflowError};
use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use std::time::{Duration, SystemTime};

pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// What aws-iam-authenticator presigns with; EKS accepts a token for 15 minutes after its
/// `X-Amz-Date` whatever this says, which outlasts any Lambda invocation.
const PRESIGNED_EXPIRY: Duration = Duration::from_secs(60);

/// A bearer token for one cluster. Neither `Debug` nor `Display`: whoever holds it acts as the
/// workflow's role in that cluster for 15 minutes, so it must not reach a log or an error.
pub struct EksToken(SecretString);

impl EksToken {
    pub fn into_secret(self) -> SecretString {
        self.0
    }
}

/// Mints a token from the SDK's credentials and region, valid from now: one per invocation.
pub async fn mint(config: &SdkConfig, cluster: &str) -> Result<EksToken> {
    let provider = config
        .credentials_provider()
        .ok_or_else(|| credentials_error("the SDK configuration has no credentials provider".into()))?;
    let credentials = provider.provide_credentials().await.map_err(|e| match e {
        CredentialsError::ProviderTimedOut(_) => WorkflowError::AwsUnavailable {
            operation: "loading AWS credentials for the EKS token".into(),
            message: e.to_string(),
        },
        other => credentials_error(other.to_string()),
    })?;
    let region = config
        .region()
        .ok_or_else(|| WorkflowError::invalid("AWS_REGION", "must be set: the EKS token is signed for a region"))?;
    presign(&credentials, region.as_ref(), cluster, SystemTime::now())
}

/// The session of the workflow's Kubernetes identity: the name the cluster's audit log shows.
pub const SESSION_NAME: &str = "efs-fargate-workflow";

/// Mints a token as `role_arn`, the workflow's Kubernetes identity (the role its access entry
/// names), assumed with the function's own credentials for this one token: the functions that
/// talk to clusters share that identity, not their AWS rights.
pub async fn mint_as(config: &SdkConfig, sts: &aws_sdk_sts::Client, role_arn: &str, cluster: &str) -> Result<EksToken> {
    let assumed = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(SESSION_NAME)
        .duration_seconds(900)
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("sts:AssumeRole", e))?;
    let credentials = assumed
        .credentials()
        .ok_or_else(|| credentials_error(format!("sts:AssumeRole of {role_arn} returned no credentials")))?;
    let credentials = Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_string()),
        None,
        "assumed-cluster-access-role",
    );
    let region = config
        .region()
        .ok_or_else(|| WorkflowError::invalid("AWS_REGION", "must be set: the EKS token is signed for a region"))?;
    presign(&credentials, region.as_ref(), cluster, SystemTime::now())
}

fn credentials_error(message: String) -> WorkflowError {
    WorkflowError::AccessDenied {
        operation: "loading AWS credentials for the EKS token".into(),
        message,
    }
}

/// The token for `cluster`, signed with `credentials` for the regional STS endpoint at `now`:
/// query-string SigV4, `X-Amz-Expires=60`, signed headers `host;x-k8s-aws-id`, and no query
/// parameter beyond `Action` and `Version` (the authenticator rejects any other).
pub fn presign(credentials: &Credentials, region: &str, cluster: &str, now: SystemTime) -> Result<EksToken> {
    let url = format!(
        "https://{}/?Action=GetCallerIdentity&Version=2011-06-15",
        sts_host(region)
    );
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGNED_EXPIRY);
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(signing_error)?
        .into();
    let signable = SignableRequest::new(
        "GET",
        &url,
        [(CLUSTER_ID_HEADER, cluster)].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(signing_error)?;
    let (instructions, _signature) = sign(signable, &params).map_err(signing_error)?.into_parts();
    let mut request = http::Request::get(&url).body(()).map_err(signing_error)?;
    instructions.apply_to_request_http1x(&mut request);
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(request.uri().to_string()));
    Ok(EksToken(token.into()))
}

/// The regional STS endpoint: the authenticator only accepts STS hosts of the cluster's partition.
fn sts_host(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("sts.{region}.amazonaws.com.cn")
    } else {
        format!("sts.{region}.amazonaws.com")
    }
}

fn signing_error(err: impl std::fmt::Display) -> WorkflowError {
    WorkflowError::AwsApiError {
        operation: "signing the EKS token".into(),
        code: "SigningFailed".into(),
        message: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::BTreeMap;

    /// Decodes a token back into its URL's host and query parameters.
    fn decode(token: &EksToken) -> (String, BTreeMap<String, String>) {
        let text = token.0.expose_secret();
        let encoded = text.strip_prefix(TOKEN_PREFIX).expect("prefix");
        assert!(!encoded.contains('='), "base64url without padding");
        let url = String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).expect("base64url")).unwrap();
        let uri: http::Uri = url.parse().unwrap();
        assert_eq!(uri.scheme_str(), Some("https"));
        assert_eq!(uri.path(), "/");
        let query = uri
            .query()
            .unwrap()
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect();
        (uri.host().unwrap().to_string(), query)
    }

    /// The golden vector, cross-checked against botocore's `RequestSigner.generate_presigned_url`
    /// (what `aws eks get-token` uses): both sign to the same value, though they order the query
    /// parameters differently, so the parameters are compared, not the strings.
    #[test]
    fn golden_token_matches_botocore() {
        let credentials = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("tok".into()),
            None,
            "test",
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645); // 2024-01-02T03:04:05Z
        let token = presign(&credentials, "us-east-1", "demo", now).unwrap();
        let (host, query) = decode(&token);
        assert_eq!(host, "sts.us-east-1.amazonaws.com");
        let expected: BTreeMap<String, String> = [
            ("Action", "GetCallerIdentity"),
            ("Version", "2011-06-15"),
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            (
                "X-Amz-Credential",
                "AKIDEXAMPLE%2F20240102%2Fus-east-1%2Fsts%2Faws4_request",
            ),
            ("X-Amz-Date", "20240102T030405Z"),
            ("X-Amz-Expires", "60"),
            ("X-Amz-SignedHeaders", "host%3Bx-k8s-aws-id"),
            ("X-Amz-Security-Token", "tok"),
            (
                "X-Amz-Signature",
                "4660faa078d8d69541f68b5193946aa4751fbd686d87e17f363cb80d4c36f72e",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(query, expected);
    }

    #[test]
    fn the_signature_binds_the_cluster_and_the_time() {
        let credentials = Credentials::new("AKID", "secret", None, None, "test");
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645);
        let signature = |cluster: &str, now: SystemTime| {
            decode(&presign(&credentials, "eu-west-1", cluster, now).unwrap()).1["X-Amz-Signature"].clone()
        };
        assert_ne!(signature("demo", now), signature("other", now));
        assert_ne!(signature("demo", now), signature("demo", now + Duration::from_secs(1)));
        let (host, _) = decode(&presign(&credentials, "cn-north-1", "demo", now).unwrap());
        assert_eq!(host, "sts.cn-north-1.amazonaws.com.cn");
    }
}
