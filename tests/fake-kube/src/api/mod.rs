//! The HTTP face of the cluster: routing, authentication, bodies, responses.

pub mod discovery;
pub mod handlers;
pub mod path;
pub mod status;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};

use crate::auth::{Auth, attributes};
use crate::cluster::Cluster;
use handlers::{Handlers, Reply};
use path::Route;
use status::{ApiError, Reason};

/// The API server's default limit on request bodies.
const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

pub struct Api {
    pub cluster: Arc<Cluster>,
    pub auth: Auth,
    /// `127.0.0.1:PORT`, for `/api`'s `serverAddressByClientCIDRs`.
    pub server_address: String,
    /// False during an outage: every request is answered 503, and nothing is stored or changed.
    pub available: Arc<AtomicBool>,
}

impl Api {
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let response = match self.respond(request).await {
            Ok(Reply::Json(status, value)) => json_response(status, &value),
            Ok(Reply::Text(text)) => response(StatusCode::OK, "text/plain", text.into()),
            Err(error) => {
                let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                json_response(status, &error.to_status())
            }
        };
        tracing::debug!(%method, path, status = response.status().as_u16(), "request");
        response
    }

    async fn respond(&self, request: Request<Incoming>) -> Result<Reply, ApiError> {
        if !self.available.load(Ordering::SeqCst) {
            return Err(ApiError::new(
                Reason::ServiceUnavailable,
                "the API server is unavailable (an outage the test made)",
            ));
        }
        let (parts, body) = request.into_parts();
        let route = Route::parse(parts.uri.path())
            .ok_or_else(|| ApiError::new(Reason::NotFound, "the server could not find the requested resource"))?;
        let query: Vec<(String, String)> = form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
        let user = if route.is_public() {
            None
        } else {
            Some(self.auth.authenticate(&parts.headers)?)
        };
        // Like the API server's filter chain: authorized before the handler looks at anything.
        let watch = query
            .iter()
            .any(|(k, v)| k == "watch" && matches!(v.as_str(), "true" | "1"));
        if let Some(user) = &user
            && let Some(attributes) = attributes::of_request(&parts.method, &route, watch)
        {
            self.auth.authorize(user, &attributes, &self.cluster.store())?;
        }
        let body = Limited::new(body, MAX_BODY_BYTES)
            .collect()
            .await
            .map_err(|e| ApiError::bad_request(format!("can't read the request body: {e}")))?
            .to_bytes();
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let request = handlers::Request {
            method: &parts.method,
            route,
            query,
            content_type: &content_type,
            body: &body,
            user,
        };
        Handlers {
            cluster: &self.cluster,
            auth: &self.auth,
            server_address: &self.server_address,
        }
        .dispatch(&request)
    }
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    response(status, "application/json", Bytes::from(value.to_string()))
}

fn response(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    response
}
