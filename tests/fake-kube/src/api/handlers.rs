//! What each (route, method) does.

use std::sync::Arc;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::discovery;
use crate::api::path::{Route, Subresource};
use crate::api::status::{ApiError, Reason, deleted_status};
use crate::auth::Authenticator;
use crate::auth::token::Caller;
use crate::cluster::Cluster;
use crate::kind::Kind;
use crate::store::selector::{FieldSelector, LabelSelector, Selectors};
use crate::store::{ObjectKey, meta};

/// A successful answer.
#[derive(Debug)]
pub enum Reply {
    Json(StatusCode, Value),
    Text(String),
}

fn ok(value: Value) -> Result<Reply, ApiError> {
    Ok(Reply::Json(StatusCode::OK, value))
}

/// A decoded request.
pub struct Request<'a> {
    pub method: &'a Method,
    pub route: Route,
    pub query: Vec<(String, String)>,
    /// Without parameters (`; charset=utf-8`).
    pub content_type: &'a str,
    pub body: &'a [u8],
    /// `None` on public routes.
    pub caller: Option<Caller>,
}

impl Request<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn json_body(&self) -> Result<Value, ApiError> {
        serde_json::from_slice(self.body).map_err(|e| {
            let hint = if self.content_type == "application/apply-patch+yaml" {
                " (apply patches are accepted as JSON, which is what kube-rs sends; YAML is not emulated)"
            } else {
                ""
            };
            ApiError::bad_request(format!("the request body is not JSON{hint}: {e}"))
        })
    }
}

pub struct Handlers<'a> {
    pub cluster: &'a Arc<Cluster>,
    pub auth: &'a Authenticator,
    pub server_address: &'a str,
}

impl Handlers<'_> {
    pub fn dispatch(&self, request: &Request<'_>) -> Result<Reply, ApiError> {
        let get = request.method == Method::GET;
        match &request.route {
            Route::Version if get => ok(discovery::version()),
            Route::Health if get => Ok(Reply::Text("ok".into())),
            Route::CoreVersions if get => ok(discovery::core_versions(self.server_address)),
            Route::GroupList if get => ok(discovery::group_list()),
            Route::StorageGroup if get => ok(discovery::group()),
            Route::ResourceList { group } if get => ok(discovery::resource_list(group)),
            Route::Collection { kind, namespace } => self.collection(request, *kind, namespace.as_deref()),
            Route::Object {
                kind,
                namespace,
                name,
                subresource,
            } => {
                let key = ObjectKey::new(*kind, namespace, name);
                match subresource {
                    None => self.object(request, &key),
                    Some(Subresource::Status) if get => self.get(request, &key),
                    Some(Subresource::Log) if get => self.log(request, &key),
                    Some(_) => Err(method_not_allowed(request.method)),
                }
            }
            _ => Err(method_not_allowed(request.method)),
        }
    }

    fn collection(&self, request: &Request<'_>, kind: Kind, namespace: Option<&str>) -> Result<Reply, ApiError> {
        match *request.method {
            Method::GET => {
                if matches!(request.param("watch"), Some("true" | "1")) {
                    return Err(ApiError::bad_request(
                        "watch is not emulated by fake-kube-apiserver: poll with list",
                    ));
                }
                self.authorize(request, "list", kind, namespace.unwrap_or_default())?;
                let selectors = Selectors {
                    labels: LabelSelector::parse(request.param("labelSelector").unwrap_or_default())?,
                    fields: FieldSelector::parse(kind, request.param("fieldSelector").unwrap_or_default())?,
                };
                let (items, revision) = self.cluster.list(kind, namespace, &selectors);
                ok(json!({
                    "kind": format!("{}List", kind.name()),
                    "apiVersion": kind.api_version(),
                    "metadata": {"resourceVersion": revision.to_string()},
                    "items": items,
                }))
            }
            Method::POST => {
                if kind.namespaced() && namespace.is_none() {
                    return Err(method_not_allowed(request.method));
                }
                let namespace = namespace.unwrap_or_default();
                self.authorize(request, "create", kind, namespace)?;
                refuse_dry_run(request)?;
                let created = self.cluster.create(kind, namespace, request.json_body()?)?;
                Ok(Reply::Json(StatusCode::CREATED, created))
            }
            _ => Err(method_not_allowed(request.method)),
        }
    }

    fn object(&self, request: &Request<'_>, key: &ObjectKey) -> Result<Reply, ApiError> {
        match *request.method {
            Method::GET => self.get(request, key),
            Method::PATCH => {
                self.authorize(request, "patch", key.kind, &key.namespace)?;
                refuse_dry_run(request)?;
                self.patch(request, key)
            }
            Method::DELETE => {
                self.authorize(request, "delete", key.kind, &key.namespace)?;
                refuse_dry_run(request)?;
                let deleted = self.cluster.delete(key)?;
                ok(deleted_status(key.kind, &key.name, meta::uid(&deleted)))
            }
            _ => Err(method_not_allowed(request.method)),
        }
    }

    fn get(&self, request: &Request<'_>, key: &ObjectKey) -> Result<Reply, ApiError> {
        self.authorize(request, "get", key.kind, &key.namespace)?;
        ok(self.cluster.get(key)?)
    }

    fn patch(&self, request: &Request<'_>, key: &ObjectKey) -> Result<Reply, ApiError> {
        match request.content_type {
            "application/apply-patch+yaml" => {
                if request.param("fieldManager").unwrap_or_default().is_empty() {
                    return Err(ApiError::bad_request(
                        "PATCH with application/apply-patch+yaml requires the fieldManager parameter",
                    ));
                }
                let (applied, created) = self.cluster.apply(key, request.json_body()?)?;
                let status = if created { StatusCode::CREATED } else { StatusCode::OK };
                Ok(Reply::Json(status, applied))
            }
            "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
                ok(self.cluster.merge_patch(key, &request.json_body()?)?)
            }
            other => Err(ApiError::new(
                Reason::UnsupportedMediaType,
                format!(
                    "the body of the request was in an unknown format - accepted media types include: \
                     application/merge-patch+json, application/strategic-merge-patch+json, \
                     application/apply-patch+yaml (got {other:?}; JSON patch is not emulated)"
                ),
            )),
        }
    }

    fn log(&self, request: &Request<'_>, key: &ObjectKey) -> Result<Reply, ApiError> {
        self.authorize(request, "get", key.kind, &key.namespace)?;
        let tail_lines = match request.param("tailLines") {
            None => None,
            Some(n) => Some(
                n.parse::<usize>()
                    .map_err(|_| ApiError::bad_request(format!("tailLines must be a number, got {n:?}")))?,
            ),
        };
        let text = self
            .cluster
            .logs(&key.namespace, &key.name, request.param("container"), tail_lines)?;
        Ok(Reply::Text(text))
    }

    fn authorize(&self, request: &Request<'_>, verb: &str, kind: Kind, namespace: &str) -> Result<(), ApiError> {
        match &request.caller {
            Some(caller) => self.auth.authorize(caller, verb, kind, namespace),
            None => Err(ApiError::new(Reason::Unauthorized, "Unauthorized")),
        }
    }
}

fn refuse_dry_run(request: &Request<'_>) -> Result<(), ApiError> {
    match request.param("dryRun") {
        Some(_) => Err(ApiError::bad_request("dryRun is not emulated by fake-kube-apiserver")),
        None => Ok(()),
    }
}

fn method_not_allowed(method: &Method) -> ApiError {
    ApiError::new(
        Reason::MethodNotAllowed,
        format!("the server does not allow this method on the requested resource ({method})"),
    )
}
