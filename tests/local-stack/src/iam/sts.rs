//! `sts:AssumeRole` between the template's roles, answered by the gateway: a function assumes the
//! workflow's Kubernetes identity (`ClusterAccessRole`) to sign its EKS tokens. IAM allows it when
//! the caller's policies allow `sts:AssumeRole` on the role (checked with every other call, in
//! [`super::authorize`]) and the role's trust policy names the caller's role; the credentials are
//! the role's own key, which the fake API server maps to the role's session, as STS's would be.
//! Callers that are not the workflow's (the tests' keys) go on to moto.

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;

use crate::gateway::Shared;
use crate::protocol_errors::{self, AwsError, Protocol};

/// The answer to an `AssumeRole` by one of the workflow's roles; `None` for any other call.
pub(crate) fn serve(
    shared: &Shared,
    service: Option<&str>,
    parts: &http::request::Parts,
    body: &Bytes,
) -> Option<Response> {
    if service != Some("sts") {
        return None;
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let param = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if param("Action") != Some("AssumeRole") {
        return None;
    }
    let caller = crate::sigv4::access_key_id(&parts.headers).and_then(|key| shared.roles.of_key(key))?;
    let role_arn = param("RoleArn").unwrap_or_default();
    let session = param("RoleSessionName").unwrap_or("session");
    let Some(role) = shared
        .roles
        .of_arn(role_arn)
        .filter(|role| role.trusted_by.contains(&caller.logical_id))
    else {
        shared.stats.iam_denied();
        let message = format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            caller.session_arn()
        );
        tracing::warn!(role = %caller.logical_id, %message, "the role's trust policy refused AssumeRole");
        let error = AwsError {
            status: StatusCode::FORBIDDEN,
            code: Protocol::Query.access_denied_code(),
            message: &message,
        };
        return Some(protocol_errors::response(Protocol::Query, error, "local-gateway-sts"));
    };
    let expiration = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(15);
    let xml = format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
         <Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>\
         <SessionToken>local-session-{key}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROALOCAL:{session}</AssumedRoleId>\
         <Arn>arn:aws:sts::{account}:assumed-role/{name}/{session}</Arn></AssumedRoleUser>\
         </AssumeRoleResult><ResponseMetadata><RequestId>local-gateway-sts</RequestId></ResponseMetadata>\
         </AssumeRoleResponse>",
        key = role.access_key_id,
        secret = role.secret_access_key,
        expiration = expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        account = workflow_tests::ACCOUNT_ID,
        name = role.name,
    );
    Some(([(http::header::CONTENT_TYPE, "text/xml")], xml).into_response())
}
