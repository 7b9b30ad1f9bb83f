//! EKS access entries, which moto lacks, emulated in the gateway in AWS's REST-JSON shapes: the
//! access-entry and access-policy APIs, tags on access entries, and `accessConfig` on clusters
//! (the authentication mode, its one-way updates, the creator's admin entry). The state lives in
//! an [`AccessEntries`] store that an API server can read to authorize requests
//! ([`AccessEntries::resolve`]).
//!
//! moto stays the authority on clusters: each call first asks it whether the cluster exists, so a
//! cluster deleted or recreated behind the gateway's back takes its entries with it. A cluster the
//! gateway did not see created has EKS's API default, `CONFIG_MAP`: create clusters through the
//! gateway to give them access entries.

mod cluster;
mod entry;
mod error;
mod model;
mod moto;
mod pagination;
mod policies;
mod principal;
mod route;
mod serve;
mod store;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, header};
use serde_json::Value;

pub use model::{AccessScope, AuthenticationMode, ResolvedAccess};
pub(crate) use moto::{call_json as moto_call_json, get as moto_get};
pub(crate) use route::Operation;
pub(crate) use serve::serve;
pub use store::AccessEntries;

/// The ARN and tags of `principal_arn`'s access entry on the cluster of moto's `DescribeCluster`
/// answer `described`: what IAM authorizes an entry's calls against.
pub(crate) fn entry_arn_and_tags(
    entries: &AccessEntries,
    described: &Value,
    principal_arn: &str,
) -> Option<(String, std::collections::BTreeMap<String, String>)> {
    let cluster = store::ClusterRef::from_answer(described)?;
    let entry = entries.describe(&cluster, principal_arn).ok()?;
    Some((entry.arn, entry.tags))
}

/// A 200 JSON answer.
fn ok(body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// EKS timestamps: epoch seconds, to the millisecond.
fn now() -> f64 {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    millis as f64 / 1000.0
}
