//! Validating admission policies (`admissionregistration.k8s.io/v1`), the way the API server
//! applies them after authorization: every binding whose policy matches the request (resource
//! rules, then match conditions) evaluates the policy's validations, written in CEL and
//! evaluated here by a real CEL implementation (the `cel` crate), over the same variables the
//! API server offers (`object`, `oldObject`, `request`, `namespaceObject`, `variables`). A
//! validation that is false denies the request with its message and reason; one that fails to
//! evaluate denies it too unless the policy's `failurePolicy` is `Ignore`.
//!
//! Not emulated: `params`/`paramKind`, `authorizer`, `messageExpression`, audit annotations,
//! `matchPolicy: Equivalent` (the fake serves one version of each kind), and bindings' own
//! `matchResources` beyond namespace selectors.

mod cel_eval;
mod matching;

use serde_json::{Value, json};

use crate::api::status::{ApiError, Reason};
use crate::auth::User;
use crate::auth::rules::Attributes;
use crate::kind::Kind;
use crate::store::{ObjectKey, Store, meta};
use cel_eval::{Evaluation, Program};

/// `CREATE`, `UPDATE` or `DELETE`: what an admission request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

/// One write, as admission sees it.
pub struct Review<'a> {
    pub user: &'a User,
    pub attributes: &'a Attributes,
    pub kind: Kind,
    pub operation: Operation,
    /// As it would be stored; `None` for a delete.
    pub object: Option<&'a Value>,
    /// As it is stored; `None` for a create.
    pub old_object: Option<&'a Value>,
}

/// Denies `review` when a bound policy does: 403/422 (the validation's reason) with the API
/// server's message.
pub fn admit(store: &Store, review: &Review<'_>) -> Result<(), ApiError> {
    // As in the API server: policies never apply to admission configuration itself, so no policy
    // can lock out its own repair.
    if review.kind.group() == crate::kind::ADMISSION_GROUP {
        return Ok(());
    }
    // As the API server does it: a namespace's own requests carry its name as their namespace
    // (kube-apiserver's "maybe a bug"), but no namespace object; other cluster-scoped objects
    // have neither.
    let namespace = if review.kind.namespaced() || review.kind == Kind::Namespace {
        review.attributes.namespace.as_str()
    } else {
        ""
    };
    let namespace_object = review
        .kind
        .namespaced()
        .then(|| store.get(&ObjectKey::new(Kind::Namespace, "", namespace)))
        .flatten();
    let name = match (review.object, review.old_object) {
        (Some(object), _) if !meta::name(object).is_empty() => meta::name(object).to_string(),
        (_, Some(old)) => meta::name(old).to_string(),
        _ => review.attributes.name.clone(),
    };
    let request = json!({
        "operation": review.operation.as_str(),
        "name": name,
        "namespace": namespace,
        "kind": {"group": review.kind.group(), "version": "v1", "kind": review.kind.name()},
        "resource": {"group": review.kind.group(), "version": "v1", "resource": review.kind.plural()},
        "subResource": review.attributes.subresource,
        "userInfo": {"username": review.user.subject.name, "groups": review.user.subject.groups},
    });
    let inputs = cel_eval::Inputs {
        object: review.object.cloned().unwrap_or(Value::Null),
        old_object: review.old_object.cloned().unwrap_or(Value::Null),
        request,
        namespace_object: namespace_object.cloned().unwrap_or(Value::Null),
    };
    for binding in store.list(Kind::ValidatingAdmissionPolicyBinding, None) {
        let policy_name = binding["spec"]["policyName"].as_str().unwrap_or_default();
        let Some(policy) = store.get(&ObjectKey::new(Kind::ValidatingAdmissionPolicy, "", policy_name)) else {
            continue;
        };
        let denies = binding["spec"]["validationActions"]
            .as_array()
            .is_some_and(|actions| actions.iter().any(|a| a == "Deny"));
        if !denies || !matching::matches(policy, binding, review, namespace_object) {
            continue;
        }
        check(policy, meta::name(binding), &inputs).map_err(|(reason, message)| {
            // Worded by `admission.NewForbidden`, whatever the reason and code.
            let object = format!("{} {name:?}", review.kind.qualified_resource());
            ApiError::new(reason, format!("{object} is forbidden: {message}"))
        })?;
    }
    Ok(())
}

/// The policy's match conditions, then its validations, in order; the first that denies wins
/// and says why.
fn check(policy: &Value, binding: &str, inputs: &cel_eval::Inputs) -> Result<(), (Reason, String)> {
    let policy_name = meta::name(policy);
    let spec = &policy["spec"];
    let fail_closed = spec["failurePolicy"].as_str() != Some("Ignore");
    let deny = |reason: Reason, message: String| {
        (
            reason,
            format!("ValidatingAdmissionPolicy '{policy_name}' with binding '{binding}' denied request: {message}"),
        )
    };
    let variables = cel_eval::variables(
        spec["variables"].as_array().map(Vec::as_slice).unwrap_or_default(),
        inputs,
    );
    for condition in spec["matchConditions"].as_array().into_iter().flatten() {
        let expression = condition["expression"].as_str().unwrap_or_default();
        match Program::compile(expression).evaluate(inputs, &variables) {
            Evaluation::Bool(true) => {}
            Evaluation::Bool(false) => return Ok(()),
            Evaluation::Error(error) if fail_closed => {
                return Err(deny(
                    Reason::Forbidden,
                    format!("match condition {expression:?}: {error}"),
                ));
            }
            Evaluation::Error(_) => return Ok(()),
        }
    }
    for validation in spec["validations"].as_array().into_iter().flatten() {
        let expression = validation["expression"].as_str().unwrap_or_default();
        let reason = match validation["reason"].as_str() {
            Some("Forbidden") => Reason::Forbidden,
            Some("Unauthorized") => Reason::Unauthorized,
            _ => Reason::Invalid,
        };
        match Program::compile(expression).evaluate(inputs, &variables) {
            Evaluation::Bool(true) => {}
            Evaluation::Bool(false) => {
                let message = validation["message"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("failed expression: {expression}"));
                tracing::info!(policy = policy_name, binding, message, "admission denied");
                return Err(deny(reason, message));
            }
            Evaluation::Error(error) if fail_closed => {
                tracing::info!(policy = policy_name, binding, %error, expression, "admission error: denied");
                return Err(deny(
                    reason,
                    format!("expression '{expression}' resulted in error: {error}"),
                ));
            }
            Evaluation::Error(_) => {}
        }
    }
    Ok(())
}
