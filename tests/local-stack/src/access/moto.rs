//! What the emulation asks moto: whether a cluster exists (and which incarnation of it), and who
//! the caller is. Each question is a request of its own, made with the caller's credentials.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use serde_json::Value;

use super::error::AccessError;
use super::store::ClusterRef;
use crate::proxy::Upstream;
use crate::reply::Reply;

/// Why a call could not be answered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error("{0}")]
    Moto(String),
}

impl Failure {
    pub(crate) fn response(&self) -> Response {
        match self {
            Failure::Access(error) => error.response(),
            Failure::Moto(message) => {
                let mut response = Response::new(Body::from(message.clone()));
                *response.status_mut() = StatusCode::BAD_GATEWAY;
                response
            }
        }
    }
}

impl ClusterRef {
    /// The cluster of a `{"cluster": {...}}` answer (CreateCluster, DescribeCluster, DeleteCluster).
    pub(crate) fn from_answer(body: &Value) -> Option<Self> {
        let cluster = &body["cluster"];
        Some(Self {
            name: cluster["name"].as_str()?.to_string(),
            arn: cluster["arn"].as_str()?.to_string(),
            created_at: cluster["createdAt"].to_string(),
        })
    }
}

/// moto's `DescribeCluster` of `name`, or `ResourceNotFoundException` when there is none.
pub(crate) async fn cluster(
    upstream: &Upstream,
    caller: &http::request::Parts,
    name: &str,
) -> Result<ClusterRef, Failure> {
    let reply = get(upstream, caller, &format!("/clusters/{name}")).await?;
    if reply.status == StatusCode::NOT_FOUND {
        return Err(AccessError::ClusterNotFound(name.to_string()).into());
    }
    reply
        .json()
        .as_ref()
        .and_then(ClusterRef::from_answer)
        .ok_or_else(|| Failure::Moto(format!("moto's DescribeCluster {name} answered {}", reply.status)))
}

/// moto's answer to a `GET` of `path`, signed as the caller's request was.
pub(crate) async fn get(upstream: &Upstream, caller: &http::request::Parts, path: &str) -> Result<Reply, Failure> {
    send(
        upstream,
        caller,
        Method::GET,
        path,
        caller.headers.clone(),
        Bytes::new(),
    )
    .await
}

/// moto's answer to a JSON-protocol call `target` (`TrentService.DescribeKey`) with `body`,
/// signed as the caller's request was.
pub(crate) async fn call_json(
    upstream: &Upstream,
    caller: &http::request::Parts,
    target: &str,
    body: &Value,
) -> Result<Reply, Failure> {
    let mut headers = caller.headers.clone();
    let target = HeaderValue::from_str(target).map_err(|e| Failure::Moto(format!("target {target}: {e}")))?;
    headers.insert("x-amz-target", target);
    send(
        upstream,
        caller,
        Method::POST,
        "/",
        headers,
        Bytes::from(body.to_string()),
    )
    .await
}

/// The caller's ARN, from moto's STS `GetCallerIdentity` signed with the caller's credentials
/// (moto tells identities apart by access key only).
pub(crate) async fn caller_arn(upstream: &Upstream, caller: &http::request::Parts) -> Result<String, Failure> {
    let mut headers = caller.headers.clone();
    // moto routes by the credential scope's service: make it STS's.
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.replace("/eks/aws4_request", "/sts/aws4_request"))
        .and_then(|v| HeaderValue::from_str(&v).ok())
        .ok_or_else(|| Failure::Moto("the request is not signed: no caller to ask STS about".into()))?;
    headers.insert(header::AUTHORIZATION, authorization);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let body = Bytes::from_static(b"Action=GetCallerIdentity&Version=2011-06-15");
    let reply = send(upstream, caller, Method::POST, "/", headers, body).await?;
    let text = String::from_utf8_lossy(&reply.body);
    text.split_once("<Arn>")
        .and_then(|(_, rest)| rest.split_once("</Arn>"))
        .map(|(arn, _)| arn.trim().to_string())
        .filter(|_| reply.status.is_success())
        .ok_or_else(|| Failure::Moto(format!("moto's GetCallerIdentity answered {}: {text}", reply.status)))
}

async fn send(
    upstream: &Upstream,
    caller: &http::request::Parts,
    method: Method,
    path: &str,
    headers: http::HeaderMap,
    body: Bytes,
) -> Result<Reply, Failure> {
    let mut request = http::Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = path
        .parse()
        .map_err(|e| Failure::Moto(format!("{path} is not a valid path: {e}")))?;
    *request.headers_mut() = headers;
    *request.version_mut() = caller.version;
    let (parts, ()) = request.into_parts();
    upstream
        .send(parts, body)
        .await
        .map_err(|e| Failure::Moto(e.to_string()))
}
