//! Every request that is not a Lambda invoke goes to moto: method, path and query, headers and
//! body forwarded; status, headers and body returned. On the way, the handlers' AWS calls may be
//! failed ([`crate::faults`]) and moto's answers made slower ([`crate::latency`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http::{HeaderMap, HeaderName, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::access;
use crate::error::GatewayError;
use crate::gateway::Shared;
use crate::iam;
use crate::latency::Call;
use crate::protocol_errors::{self, AwsError, Protocol};
use crate::reply::Reply;
use crate::sigv4;

/// moto, reached over plain HTTP with pooled keep-alive connections.
#[derive(Debug)]
pub(crate) struct Upstream {
    authority: Authority,
    client: Client<HttpConnector, Full<Bytes>>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ProxyError {
    #[error("reading the request body failed: {0}")]
    RequestBody(#[source] axum::Error),
    #[error("moto did not answer: {0}")]
    Send(#[source] hyper_util::client::legacy::Error),
    #[error("reading moto's response body failed: {0}")]
    ResponseBody(#[source] hyper::Error),
}

impl Upstream {
    /// `endpoint` is `http://host:port` (a trailing `/` is allowed, any other path is not).
    pub(crate) fn new(endpoint: &str) -> Result<Self, GatewayError> {
        let invalid = || GatewayError::MotoEndpoint {
            endpoint: endpoint.to_string(),
        };
        let uri: Uri = endpoint.parse().map_err(|_| invalid())?;
        let plain_base = uri.scheme() == Some(&Scheme::HTTP) && matches!(uri.path(), "" | "/") && uri.query().is_none();
        let authority = uri.authority().filter(|_| plain_base).ok_or_else(invalid)?.clone();
        Ok(Self {
            authority,
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }

    pub(crate) async fn send(&self, request: http::request::Parts, body: Bytes) -> Result<Reply, ProxyError> {
        let mut uri = request.uri.into_parts();
        uri.scheme = Some(Scheme::HTTP);
        uri.authority = Some(self.authority.clone());
        let uri = Uri::from_parts(uri).expect("scheme, authority and the original path make a valid URI");
        let mut outgoing = http::Request::new(Full::new(body));
        *outgoing.method_mut() = request.method;
        *outgoing.uri_mut() = uri;
        // hyper sets Host (moto's) and Content-Length (the buffered body) itself.
        *outgoing.headers_mut() = end_to_end(
            &request.headers,
            &[header::HOST, header::CONTENT_LENGTH, header::EXPECT],
        );
        let response = self.client.request(outgoing).await.map_err(ProxyError::Send)?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(ProxyError::ResponseBody)?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: end_to_end(&parts.headers, &[header::CONTENT_LENGTH]),
            body,
        })
    }
}

/// The headers meant for the other end: hop-by-hop ones (RFC 9110 §7.6.1, plus those the
/// `Connection` header names) and `also_skip` are left out.
fn end_to_end(headers: &HeaderMap, also_skip: &[HeaderName]) -> HeaderMap {
    const HOP_BY_HOP: [&str; 8] = [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ];
    let named_by_connection: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|name| name.trim().to_ascii_lowercase()))
        .collect();
    headers
        .iter()
        .filter(|(name, _)| {
            !HOP_BY_HOP.contains(&name.as_str())
                && !also_skip.contains(name)
                && !named_by_connection.iter().any(|n| n == name.as_str())
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// The fallback route: everything but Lambda invokes.
pub(crate) async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let service = sigv4::service(&parts.headers).map(str::to_string);
    shared.stats.aws_call();
    if let Some(fault) = shared.faults.as_ref().and_then(|f| f.pick(service.as_deref())) {
        shared.stats.faulted(fault.kind);
        tracing::info!(service, kind = %fault.kind, method = %parts.method, path = parts.uri.path(), "fault injected");
        return fault.response();
    }
    let body = match body.collect().await {
        Ok(body) => body.to_bytes(),
        Err(error) => return bad_gateway(&ProxyError::RequestBody(error)),
    };
    // IAM first, as on AWS: a denied call changes nothing (see `crate::iam`).
    if let Some(denied) = iam::authorize(&shared, service.as_deref(), &parts, &body).await {
        return denied;
    }
    if let Some(assumed) = iam::assume_role(&shared, service.as_deref(), &parts, &body) {
        return assumed;
    }
    if let Some(operation) = access::Operation::classify(service.as_deref(), &parts.method, &parts.uri) {
        // moto has no access entries: the gateway answers these itself (see `crate::access`).
        return access::serve(&shared, operation, parts, body).await;
    }
    let call = shared
        .latency
        .as_ref()
        .and_then(|_| Call::classify(service.as_deref(), &parts.method, &parts.uri));
    if let (Some(latency), Some(call)) = (&shared.latency, &call)
        && let Some(message) = latency.profile_busy(call)
    {
        shared.stats.profile_busy();
        tracing::info!(%message, "Fargate profile change refused: another is in progress");
        let error = AwsError {
            status: StatusCode::CONFLICT,
            code: "ResourceInUseException",
            message: &message,
        };
        return protocol_errors::response(Protocol::Json, error, "local-gateway-profile-busy");
    }
    let (method, path) = (parts.method.clone(), parts.uri.path().to_string());
    let mut reply = match shared.upstream.send(parts, body).await {
        Ok(reply) => reply,
        Err(error) => {
            tracing::warn!(service, %method, path, %error, "proxying to moto failed");
            return bad_gateway(&error);
        }
    };
    shared.stats.proxied(service.as_deref());
    tracing::debug!(service, %method, path, status = reply.status.as_u16(), "proxied");
    if let (Some(latency), Some(call)) = (&shared.latency, &call) {
        latency.rewrite(call, &mut reply);
    }
    reply.into_response()
}

fn bad_gateway(error: &ProxyError) -> Response {
    let mut response = Response::new(Body::from(error.to_string()));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn only_plain_http_base_urls_are_accepted() {
        assert!(Upstream::new("http://127.0.0.1:5000").is_ok());
        assert!(Upstream::new("http://127.0.0.1:5000/").is_ok());
        for bad in [
            "https://127.0.0.1:5000",
            "127.0.0.1:5000",
            "http://127.0.0.1:5000/moto",
            "",
        ] {
            assert!(Upstream::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hop_by_hop_headers_are_not_forwarded() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive, x-private"),
            ("keep-alive", "timeout=5"),
            ("x-private", "1"),
            ("host", "127.0.0.1:1"),
            ("authorization", "AWS4-HMAC-SHA256 ..."),
            ("x-amz-date", "20260101T000000Z"),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        let forwarded = end_to_end(&headers, &[header::HOST]);
        let mut names: Vec<&str> = forwarded.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["authorization", "x-amz-date"]);
    }
}
