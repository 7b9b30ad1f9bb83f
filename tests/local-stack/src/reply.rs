//! moto's answer to one proxied request, held whole so latency injection can rewrite it.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::Value;

/// moto's answer to one proxied request, before it goes back to the caller.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// A 200 JSON answer made here, for a resource moto no longer knows.
    pub(crate) fn synthesized(body: &Value) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Self {
            status: StatusCode::OK,
            headers,
            body: Bytes::from(body.to_string()),
        }
    }

    /// The body of a successful answer, as JSON; `None` for an error or a non-JSON body.
    pub(crate) fn json(&self) -> Option<Value> {
        if self.status.is_success() {
            serde_json::from_slice(&self.body).ok()
        } else {
            None
        }
    }

    /// Replaces the body; hyper recomputes `Content-Length` from it.
    pub(crate) fn set_json(&mut self, body: &Value) {
        self.body = Bytes::from(body.to_string());
    }

    /// The answer as it goes back to the caller.
    pub(crate) fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}
