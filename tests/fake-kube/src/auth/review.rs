//! `SubjectAccessReview`: whether a user (with its groups) may make a resource request, answered
//! by the same RBAC authorizer that guards every request. EKS access policies never apply: they
//! attach to IAM principals, not to the Kubernetes users a review names.

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};

use crate::api::status::ApiError;
use crate::auth::rbac::Subject;
use crate::auth::rules::Attributes;
use crate::auth::{Auth, User};
use crate::store::Store;

/// The review's answer, `status` filled in.
pub fn review(auth: &Auth, store: &Store, body: &Value) -> Result<Value, ApiError> {
    let spec = &body["spec"];
    let resource = &spec["resourceAttributes"];
    if !resource.is_object() {
        return Err(ApiError::bad_request(
            "spec.resourceAttributes is required (nonResourceAttributes are not emulated)",
        ));
    }
    let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
    let user = User {
        subject: Subject {
            name: text(&spec["user"]),
            groups: spec["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .chain(["system:authenticated".to_string()])
                .collect(),
        },
        policies: Vec::new(),
    };
    let attributes = Attributes {
        verb: interned(&text(&resource["verb"])),
        group: interned(&text(&resource["group"])),
        resource: interned(&text(&resource["resource"])),
        subresource: interned(&text(&resource["subresource"])),
        namespace: text(&resource["namespace"]),
        name: text(&resource["name"]),
    };
    let allowed = auth.allows(&user, &attributes, store);
    Ok(json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": spec,
        "status": {"allowed": allowed},
    }))
}

/// A `'static` copy of `value`, made once per distinct value (the authorizer's attributes name
/// verbs and resources by static strings; reviews name a handful).
fn interned(value: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES.get_or_init(Default::default).lock().expect("the names lock");
    if let Some(name) = names.get(value) {
        return name;
    }
    let name: &'static str = Box::leak(value.to_string().into_boxed_str());
    names.insert(name);
    name
}
