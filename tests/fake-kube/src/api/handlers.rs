//! What each (route, method) does.

use std::sync::Arc;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admission::{self, Operation, Review};
use crate::api::discovery;
use crate::api::path::{Route, Subresource};
use crate::api::status::{ApiError, Reason, deleted_status};
use crate::auth::attributes::{self, attributes};
use crate::auth::{Auth, User, escalation};
use crate::cluster::Cluster;
use crate::kind::Kind;
use crate::store::selector::{FieldSelector, LabelSelector, Selectors};
use crate::store::{ObjectKey, Store, merge, meta};

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
    /// `None` on public routes; authorized for the route's verb before dispatch.
    pub user: Option<User>,
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
    pub auth: &'a Auth,
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
            Route::Group { group } if get => ok(discovery::group(group)),
            Route::ResourceList { group } if get => ok(discovery::resource_list(group)),
            Route::Collection { kind, namespace } => self.collection(request, *kind, namespace.as_deref()),
            Route::SubjectAccessReview if request.method == Method::POST => {
                let answer = crate::auth::review::review(self.auth, &self.cluster.store(), &request.json_body()?)?;
                Ok(Reply::Json(StatusCode::CREATED, answer))
            }
            Route::Object {
                kind,
                namespace,
                name,
                subresource,
            } => {
                let key = ObjectKey::new(*kind, namespace, name);
                match subresource {
                    None => self.object(request, &key),
                    Some(Subresource::Status) if get => self.get(&key),
                    Some(Subresource::Log) if get => self.log(request, &key),
                    Some(Subresource::Exec) if get || request.method == Method::POST => self.exec(request, &key),
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
                refuse_dry_run(request)?;
                let body = request.json_body()?;
                let key = ObjectKey::new(kind, namespace, meta::name(&body));
                self.check_escalation(request, &key, &body)?;
                self.admit(request, &key, Some(&body))?;
                let created = self.cluster.create(kind, namespace, body)?;
                Ok(Reply::Json(StatusCode::CREATED, created))
            }
            _ => Err(method_not_allowed(request.method)),
        }
    }

    fn object(&self, request: &Request<'_>, key: &ObjectKey) -> Result<Reply, ApiError> {
        match *request.method {
            Method::GET => self.get(key),
            Method::PATCH => {
                refuse_dry_run(request)?;
                self.patch(request, key)
            }
            Method::DELETE => {
                refuse_dry_run(request)?;
                self.admit(request, key, None)?;
                let deleted = self.cluster.delete(key)?;
                ok(deleted_status(key.kind, &key.name, meta::uid(&deleted)))
            }
            _ => Err(method_not_allowed(request.method)),
        }
    }

    fn get(&self, key: &ObjectKey) -> Result<Reply, ApiError> {
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
                let body = request.json_body()?;
                self.check_escalation(request, key, &body)?;
                self.admit(request, key, Some(&body))?;
                let (applied, created) = self.cluster.apply(key, body)?;
                let status = if created { StatusCode::CREATED } else { StatusCode::OK };
                Ok(Reply::Json(status, applied))
            }
            "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
                let patch = request.json_body()?;
                self.check_escalation(request, key, &patch)?;
                self.admit(request, key, Some(&patch))?;
                ok(self.cluster.merge_patch(key, &patch)?)
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

    /// `pods/exec` is authorized (a websocket `GET` also needs `create`, as since Kubernetes 1.31)
    /// but not emulated: without an upgraded connection the API server answers 400 too.
    fn exec(&self, request: &Request<'_>, key: &ObjectKey) -> Result<Reply, ApiError> {
        if let (true, Some(user)) = (request.method == Method::GET, &request.user) {
            let create = attributes("create", Kind::Pod, "exec", &key.namespace, &key.name);
            self.auth.authorize(user, &create, &self.cluster.store())?;
        }
        self.cluster.get(key)?;
        Err(ApiError::bad_request(
            "Upgrade request required (pods/exec is not emulated by fake-kube-apiserver)",
        ))
    }

    /// Roles and bindings as they will be stored (a patch merged into what exists) must not
    /// grant their writer more than it holds.
    fn check_escalation(&self, request: &Request<'_>, key: &ObjectKey, body: &Value) -> Result<(), ApiError> {
        let Some(user) = request.user.as_ref().filter(|_| key.kind.is_rbac()) else {
            return Ok(());
        };
        let store = self.cluster.store();
        let (_, object) = as_stored(&store, request, key, body);
        escalation::check(self.auth, &store, user, key.kind, &object)
    }

    /// The validating admission policies, on the object as it will be stored (`None`: a delete).
    fn admit(&self, request: &Request<'_>, key: &ObjectKey, body: Option<&Value>) -> Result<(), ApiError> {
        let Some(user) = &request.user else {
            return Ok(());
        };
        let Some(attributes) = attributes::of_request(request.method, &request.route, false) else {
            return Ok(());
        };
        let store = self.cluster.store();
        let (old_object, object, operation) = match body {
            Some(body) => {
                let (existing, object) = as_stored(&store, request, key, body);
                let operation = if existing.is_some() {
                    Operation::Update
                } else {
                    Operation::Create
                };
                (existing, Some(object), operation)
            }
            None => (store.get(key).cloned(), None, Operation::Delete),
        };
        admission::admit(
            &store,
            &Review {
                user,
                attributes: &attributes,
                kind: key.kind,
                operation,
                object: object.as_ref(),
                old_object: old_object.as_ref(),
            },
        )
    }
}

/// What exists (never for a POST, which creates) and the object as the write would store it: the
/// body merged into what exists, with the key's name and namespace.
fn as_stored(store: &Store, request: &Request<'_>, key: &ObjectKey, body: &Value) -> (Option<Value>, Value) {
    let existing = store.get(key).filter(|_| request.method != Method::POST).cloned();
    let mut object = existing.clone().unwrap_or_else(|| json!({"metadata": {}}));
    merge::merge_patch(&mut object, body);
    meta::set(&mut object, "name", key.name.as_str());
    meta::set(&mut object, "namespace", key.namespace.as_str());
    (existing, object)
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
