//! Failures as Kubernetes `Status` objects (`{"kind":"Status","status":"Failure","reason":..,"code":..}`).

use serde_json::{Value, json};

use crate::kind::Kind;

/// The `reason` of a failed request; each has its HTTP code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    AlreadyExists,
    /// A write whose `metadata.resourceVersion` is not the object's current one.
    Conflict,
    UnsupportedMediaType,
    Invalid,
    /// The whole API server is unavailable ([`crate::FakeKube::set_available`]).
    ServiceUnavailable,
}

impl Reason {
    pub fn code(self) -> u16 {
        match self {
            Reason::BadRequest => 400,
            Reason::Unauthorized => 401,
            Reason::Forbidden => 403,
            Reason::NotFound => 404,
            Reason::MethodNotAllowed => 405,
            Reason::AlreadyExists | Reason::Conflict => 409,
            Reason::UnsupportedMediaType => 415,
            Reason::Invalid => 422,
            Reason::ServiceUnavailable => 503,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::BadRequest => "BadRequest",
            Reason::Unauthorized => "Unauthorized",
            Reason::Forbidden => "Forbidden",
            Reason::NotFound => "NotFound",
            Reason::MethodNotAllowed => "MethodNotAllowed",
            Reason::AlreadyExists => "AlreadyExists",
            Reason::Conflict => "Conflict",
            Reason::UnsupportedMediaType => "UnsupportedMediaType",
            Reason::Invalid => "Invalid",
            Reason::ServiceUnavailable => "ServiceUnavailable",
        }
    }
}

/// A request the API server refuses, rendered as a `Status` body.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{reason:?}: {message}")]
pub struct ApiError {
    pub reason: Reason,
    pub message: String,
    pub details: Option<Value>,
}

/// One entry of `details.causes` of an `Invalid` status.
#[derive(Clone, Debug, PartialEq)]
pub struct Cause {
    /// `FieldValueRequired`, `FieldValueInvalid`, ...
    pub reason: &'static str,
    /// `metadata.name`, `spec.containers`, ...
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            details: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Reason::BadRequest, message)
    }

    /// `pods "web" not found`.
    pub fn not_found(kind: Kind, name: &str) -> Self {
        Self {
            reason: Reason::NotFound,
            message: format!("{} \"{name}\" not found", kind.qualified_resource()),
            details: Some(object_details(kind, name)),
        }
    }

    /// `pods "web" already exists`.
    pub fn already_exists(kind: Kind, name: &str) -> Self {
        Self {
            reason: Reason::AlreadyExists,
            message: format!("{} \"{name}\" already exists", kind.qualified_resource()),
            details: Some(object_details(kind, name)),
        }
    }

    /// `Operation cannot be fulfilled on configmaps "web": the object has been modified; ...`,
    /// as the API server answers a write whose `resourceVersion` precondition no longer holds.
    pub fn conflict(kind: Kind, name: &str) -> Self {
        Self {
            reason: Reason::Conflict,
            message: format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                kind.qualified_resource()
            ),
            details: Some(object_details(kind, name)),
        }
    }

    /// `pods "web" is forbidden: <detail>` (`pods is forbidden: ...` without a name), with
    /// `details` naming the resource and group the way the API server's `NewForbidden` does.
    pub fn forbidden(group: &str, resource: &str, name: &str, detail: String) -> Self {
        let qualified = match group {
            "" => resource.to_string(),
            group => format!("{resource}.{group}"),
        };
        let message = match name {
            "" => format!("{qualified} is forbidden: {detail}"),
            name => format!("{qualified} \"{name}\" is forbidden: {detail}"),
        };
        let mut details = json!({"kind": resource});
        for (field, value) in [("name", name), ("group", group)] {
            if !value.is_empty() {
                details[field] = json!(value);
            }
        }
        Self {
            reason: Reason::Forbidden,
            message,
            details: Some(details),
        }
    }

    /// `Pod "web" is invalid: spec.containers: Required value` (`Deployment.apps "web" is
    /// invalid: ...` in a named group), with one cause per problem.
    pub fn invalid(kind: Kind, name: &str, causes: Vec<Cause>) -> Self {
        let summary: Vec<String> = causes.iter().map(|c| format!("{}: {}", c.field, c.message)).collect();
        let summary = match summary.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        let mut details = object_details(kind, name);
        details["kind"] = json!(kind.name());
        details["causes"] = causes
            .into_iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        Self {
            reason: Reason::Invalid,
            message: format!("{} \"{name}\" is invalid: {summary}", kind.qualified_kind()),
            details: Some(details),
        }
    }

    pub fn status_code(&self) -> u16 {
        self.reason.code()
    }

    /// The JSON body.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason.as_str(),
            "code": self.reason.code(),
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

/// `{"name":..,"group":..,"kind":<plural>}` as the API server fills `details` for object errors.
fn object_details(kind: Kind, name: &str) -> Value {
    let mut details = json!({"name": name, "kind": kind.plural()});
    if !kind.group().is_empty() {
        details["group"] = json!(kind.group());
    }
    details
}

/// The body of a successful delete: `{"kind":"Status","status":"Success","details":{..}}`.
pub fn deleted_status(kind: Kind, name: &str, uid: &str) -> Value {
    let mut details = object_details(kind, name);
    details["uid"] = json!(uid);
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_has_the_api_server_shape() {
        let status = ApiError::not_found(Kind::StorageClass, "efs-sc").to_status();
        assert_eq!(
            status,
            json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "storageclasses.storage.k8s.io \"efs-sc\" not found",
                "reason": "NotFound", "code": 404,
                "details": {"name": "efs-sc", "group": "storage.k8s.io", "kind": "storageclasses"}
            })
        );
    }

    #[test]
    fn forbidden_names_the_resource_like_new_forbidden() {
        let status = ApiError::forbidden(
            "storage.k8s.io",
            "storageclasses",
            "efs-sc",
            "User \"u\" cannot patch".into(),
        )
        .to_status();
        assert_eq!(status["code"], 403);
        assert_eq!(
            status["message"],
            "storageclasses.storage.k8s.io \"efs-sc\" is forbidden: User \"u\" cannot patch"
        );
        assert_eq!(
            status["details"],
            json!({"name": "efs-sc", "group": "storage.k8s.io", "kind": "storageclasses"})
        );
        let status = ApiError::forbidden("", "pods", "", "x".into()).to_status();
        assert_eq!(
            (status["message"].as_str(), &status["details"]),
            (Some("pods is forbidden: x"), &json!({"kind": "pods"}))
        );
    }

    #[test]
    fn invalid_lists_its_causes() {
        let cause = Cause {
            reason: "FieldValueRequired",
            field: "spec.containers".into(),
            message: "Required value".into(),
        };
        let status = ApiError::invalid(Kind::Pod, "web", vec![cause]).to_status();
        assert_eq!(status["code"], 422);
        assert_eq!(
            status["message"],
            "Pod \"web\" is invalid: spec.containers: Required value"
        );
        assert_eq!(status["details"]["causes"][0]["field"], "spec.containers");
        assert_eq!(status["details"]["kind"], "Pod");
    }
}
