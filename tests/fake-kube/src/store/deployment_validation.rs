//! What the API server checks in a Deployment before storing it (`pkg/apis/apps/validation`):
//! a non-empty selector that matches the pod template's labels, a valid pod template whose
//! `restartPolicy` is `Always`, no negative replica count, and a selector that never changes.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::status::{ApiError, Cause};
use crate::kind::Kind;
use crate::store::meta;
use crate::store::validation::{invalid_value, required, required_with, validate_pod_spec};

/// `spec` of a normalized Deployment.
pub fn validate(deployment: &Value, causes: &mut Vec<Cause>) {
    let spec = &deployment["spec"];
    if let Some(replicas) = spec["replicas"].as_i64().filter(|r| *r < 0) {
        causes.push(invalid_value(
            "spec.replicas",
            &replicas.to_string(),
            "must be greater than or equal to 0",
        ));
    }
    let selector = &spec["selector"];
    // A missing selector selects nothing, so the template check below fails too, as it does
    // on the API server.
    let selector_is_valid = if selector.is_object() {
        if selector_is_empty(selector) {
            causes.push(invalid(
                "spec.selector",
                &selector.to_string(),
                "empty selector is invalid for deployment",
            ));
        }
        validate_expressions(selector, causes)
    } else {
        causes.push(required("spec.selector"));
        true
    };
    let template = &spec["template"];
    let labels: BTreeMap<String, String> =
        serde_json::from_value(template["metadata"]["labels"].clone()).unwrap_or_default();
    if selector_is_valid && !selects(selector, &labels) {
        causes.push(invalid(
            "spec.template.metadata.labels",
            &go_map(&labels),
            "`selector` does not match template `labels`",
        ));
    }
    validate_pod_spec(&template["spec"], "spec.template.spec", causes);
    match template["spec"]["restartPolicy"].as_str() {
        None | Some("Always") => {}
        Some(policy) => causes.push(Cause {
            reason: "FieldValueNotSupported",
            field: "spec.template.spec.restartPolicy".into(),
            message: format!("Unsupported value: \"{policy}\": supported values: \"Always\""),
        }),
    }
}

/// `spec.selector` is immutable in `apps/v1`.
pub fn validate_update(old: &Value, new: &Value) -> Result<(), ApiError> {
    let selector = &new["spec"]["selector"];
    if old["spec"]["selector"] == *selector {
        return Ok(());
    }
    let cause = invalid("spec.selector", &selector.to_string(), "field is immutable");
    Err(ApiError::invalid(Kind::Deployment, meta::name(new), vec![cause]))
}

fn selector_is_empty(selector: &Value) -> bool {
    let empty = |field: &str| match &selector[field] {
        Value::Object(map) => map.is_empty(),
        Value::Array(list) => list.is_empty(),
        _ => true,
    };
    empty("matchLabels") && empty("matchExpressions")
}

/// Checks the operators and values of `matchExpressions`; `false` when the selector can't be
/// evaluated (the API server then skips the template check).
fn validate_expressions(selector: &Value, causes: &mut Vec<Cause>) -> bool {
    let before = causes.len();
    for (i, expression) in expressions(selector).enumerate() {
        let field = format!("spec.selector.matchExpressions[{i}]");
        let has_values = expression["values"].as_array().is_some_and(|v| !v.is_empty());
        match expression["operator"].as_str().unwrap_or_default() {
            "In" | "NotIn" if !has_values => causes.push(required_with(
                &format!("{field}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if has_values => causes.push(Cause {
                reason: "FieldValueForbidden",
                field: format!("{field}.values"),
                message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'".into(),
            }),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => causes.push(invalid_value(
                &format!("{field}.operator"),
                other,
                "not a valid selector operator",
            )),
        }
    }
    causes.len() == before
}

fn expressions(selector: &Value) -> impl Iterator<Item = &Value> {
    selector["matchExpressions"].as_array().into_iter().flatten()
}

/// `LabelSelectorAsSelector(selector).Matches(labels)`; a missing selector matches nothing.
fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    if !selector.is_object() {
        return false;
    }
    let match_labels = selector["matchLabels"].as_object().into_iter().flatten();
    let labels_match = match_labels
        .into_iter()
        .all(|(key, value)| labels.get(key).map(String::as_str) == value.as_str());
    labels_match
        && expressions(selector).all(|expression| {
            let value = expression["key"].as_str().and_then(|key| labels.get(key));
            let listed = |v: &String| {
                expression["values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|x| x.as_str() == Some(v))
            };
            match expression["operator"].as_str().unwrap_or_default() {
                "In" => value.is_some_and(listed),
                "NotIn" => !value.is_some_and(listed),
                "Exists" => value.is_some(),
                _ => value.is_none(),
            }
        })
}

/// A cause whose value the API server prints with Go's `%#v` (not as a quoted string).
fn invalid(field: &str, value: &str, problem: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid",
        field: field.into(),
        message: format!("Invalid value: {value}: {problem}"),
    }
}

/// `map[string]string{"app":"web"}`, as Go's `%#v` prints labels.
fn go_map(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "map[string]string(nil)".into();
    }
    let entries: Vec<String> = labels.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    format!("map[string]string{{{}}}", entries.join(", "))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment(selector: Value, labels: Value) -> Value {
        json!({"metadata": {"name": "d"}, "spec": {
            "selector": selector,
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "busybox"}]},
            },
        }})
    }

    fn fields(deployment: &Value) -> Vec<String> {
        let mut causes = Vec::new();
        validate(deployment, &mut causes);
        causes.into_iter().map(|c| c.field).collect()
    }

    #[test]
    fn the_selector_must_match_the_template_labels() {
        let labels = json!({"app": "web", "tier": "front"});
        assert!(fields(&deployment(json!({"matchLabels": {"app": "web"}}), labels.clone())).is_empty());
        let expressions = json!({"matchExpressions": [
            {"key": "app", "operator": "In", "values": ["web", "api"]},
            {"key": "canary", "operator": "DoesNotExist"},
        ]});
        assert!(fields(&deployment(expressions, labels.clone())).is_empty());
        let mut causes = Vec::new();
        validate(&deployment(json!({"matchLabels": {"app": "db"}}), labels), &mut causes);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "spec.template.metadata.labels");
        assert_eq!(
            causes[0].message,
            "Invalid value: map[string]string{\"app\":\"web\", \"tier\":\"front\"}: `selector` does not match \
             template `labels`"
        );
    }

    #[test]
    fn selectors_are_required_non_empty_and_well_formed() {
        let labels = json!({"app": "web"});
        assert_eq!(
            fields(&deployment(Value::Null, labels.clone())),
            ["spec.selector", "spec.template.metadata.labels"]
        );
        assert_eq!(fields(&deployment(json!({}), labels.clone())), ["spec.selector"]);
        let bad = json!({"matchExpressions": [
            {"key": "app", "operator": "In"},
            {"key": "app", "operator": "Near", "values": ["x"]},
        ]});
        assert_eq!(
            fields(&deployment(bad, labels)),
            [
                "spec.selector.matchExpressions[0].values",
                "spec.selector.matchExpressions[1].operator"
            ]
        );
    }

    #[test]
    fn templates_need_containers_and_restart_policy_always() {
        let mut object = deployment(json!({"matchLabels": {"app": "web"}}), json!({"app": "web"}));
        object["spec"]["template"]["spec"] = json!({"containers": [], "restartPolicy": "Never"});
        object["spec"]["replicas"] = json!(-1);
        assert_eq!(
            fields(&object),
            [
                "spec.replicas",
                "spec.template.spec.containers",
                "spec.template.spec.restartPolicy"
            ]
        );
    }

    #[test]
    fn the_selector_is_immutable() {
        let old = deployment(json!({"matchLabels": {"app": "web"}}), json!({"app": "web"}));
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(3);
        assert!(validate_update(&old, &new).is_ok());
        new["spec"]["selector"] = json!({"matchLabels": {"app": "api"}});
        let err = validate_update(&old, &new).unwrap_err();
        assert_eq!(err.status_code(), 422);
        assert!(
            err.message
                .starts_with("Deployment.apps \"d\" is invalid: spec.selector"),
            "{}",
            err.message
        );
        assert!(err.message.ends_with("field is immutable"), "{}", err.message);
    }
}
