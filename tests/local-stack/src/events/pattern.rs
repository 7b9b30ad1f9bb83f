//! EventBridge event patterns: checked when a rule is put, as `PutRule` does, and matched against
//! events the way EventBridge matches them. moto's own matcher cannot be used: its `PutEvents`
//! fails on rules with Step Functions targets.
//!
//! Supported: nested objects, lists of exact values (strings, numbers compared as numbers, booleans,
//! `null`), and the operators `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (a value, a
//! list of values or a `prefix`) and `exists`. A pattern using anything else (`numeric`,
//! `wildcard`, `$or`, ...) is refused, so a template that starts relying on one fails loudly here.
//! An event field holding a list matches when any of its elements does.

use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid event pattern at {at}: {message}")]
pub struct PatternError {
    at: String,
    message: String,
}

fn invalid(at: &str, message: impl Into<String>) -> PatternError {
    PatternError {
        at: at.to_string(),
        message: message.into(),
    }
}

/// A checked event pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern(Map<String, Value>);

impl Pattern {
    pub fn new(pattern: Value) -> Result<Self, PatternError> {
        let Value::Object(fields) = pattern else {
            return Err(invalid("$", "a pattern is a JSON object"));
        };
        check_object(&fields, "$")?;
        Ok(Self(fields))
    }

    pub fn matches(&self, event: &Value) -> bool {
        object_matches(&self.0, Some(event))
    }
}

fn check_object(fields: &Map<String, Value>, at: &str) -> Result<(), PatternError> {
    if fields.is_empty() {
        return Err(invalid(at, "an object must have at least one field"));
    }
    for (key, value) in fields {
        let at = format!("{at}.{key}");
        match value {
            Value::Object(nested) => check_object(nested, &at)?,
            Value::Array(matchers) if matchers.is_empty() => return Err(invalid(&at, "an empty list matches nothing")),
            Value::Array(matchers) => {
                for matcher in matchers {
                    check_matcher(matcher, &at)?;
                }
            }
            _ => return Err(invalid(&at, "a field's value must be a list of matchers or an object")),
        }
    }
    Ok(())
}

fn check_matcher(matcher: &Value, at: &str) -> Result<(), PatternError> {
    let Value::Object(operator) = matcher else {
        return Ok(());
    };
    let [(name, operand)] = operator.iter().collect::<Vec<_>>()[..] else {
        return Err(invalid(at, "an operator object has exactly one field"));
    };
    let ok = match name.as_str() {
        "prefix" | "suffix" | "equals-ignore-case" => operand.is_string(),
        "exists" => operand.is_boolean(),
        "anything-but" => match operand {
            Value::Array(values) => !values.is_empty() && values.iter().all(is_scalar),
            Value::Object(inner) => inner.len() == 1 && inner.get("prefix").is_some_and(Value::is_string),
            other => is_scalar(other),
        },
        _ => {
            return Err(invalid(
                at,
                format!("operator `{name}` is not supported by the local stack"),
            ));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(at, format!("`{name}` does not take {operand}")))
    }
}

fn is_scalar(value: &Value) -> bool {
    !(value.is_array() || value.is_object())
}

/// `field` is the event's value at this level, `None` when the event has no such field.
fn object_matches(pattern: &Map<String, Value>, field: Option<&Value>) -> bool {
    pattern.iter().all(|(key, wanted)| {
        let value = field.and_then(|f| f.get(key));
        match wanted {
            Value::Object(nested) => object_matches(nested, value),
            Value::Array(matchers) => matchers.iter().any(|m| leaf_matches(m, value)),
            _ => false,
        }
    })
}

fn leaf_matches(matcher: &Value, value: Option<&Value>) -> bool {
    if let Value::Object(operator) = matcher
        && let Some(exists) = operator.get("exists").and_then(Value::as_bool)
    {
        return value.is_some() == exists;
    }
    match value {
        None => false,
        Some(Value::Array(items)) => items.iter().any(|item| scalar_matches(matcher, item)),
        Some(item) => scalar_matches(matcher, item),
    }
}

fn scalar_matches(matcher: &Value, value: &Value) -> bool {
    let Value::Object(operator) = matcher else {
        return equal(matcher, value);
    };
    let text = value.as_str();
    operator.iter().all(|(name, operand)| match name.as_str() {
        "prefix" => text.zip(operand.as_str()).is_some_and(|(t, p)| t.starts_with(p)),
        "suffix" => text.zip(operand.as_str()).is_some_and(|(t, s)| t.ends_with(s)),
        "equals-ignore-case" => text
            .zip(operand.as_str())
            .is_some_and(|(t, o)| t.to_lowercase() == o.to_lowercase()),
        "anything-but" => match operand {
            Value::Array(values) => !values.iter().any(|v| equal(v, value)),
            Value::Object(inner) => {
                let prefix = inner.get("prefix").and_then(Value::as_str).unwrap_or_default();
                text.is_some_and(|t| !t.starts_with(prefix))
            }
            single => !equal(single, value),
        },
        _ => false,
    })
}

/// Exact matching; numbers by value (`5` matches `5.0`).
fn equal(wanted: &Value, value: &Value) -> bool {
    match (wanted, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => wanted == value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster_created() -> Pattern {
        Pattern::new(json!({
            "source": ["aws.eks"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": ["eks.amazonaws.com"], "eventName": ["CreateCluster"]},
        }))
        .unwrap()
    }

    fn sample(name: &str) -> Value {
        let path = workflow_tests::server::repo_root()
            .join("events/eventbridge")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_cluster_created_rule_matches_every_create_cluster_sample_and_nothing_else() {
        let pattern = cluster_created();
        for name in [
            "create-cluster-opted-in.json",
            "create-cluster-not-opted-in.json",
            "create-cluster-legacy-field.json",
            "create-cluster-with-namespace-and-ttl.json",
        ] {
            assert!(pattern.matches(&sample(name)), "{name}");
        }
        assert!(!pattern.matches(&sample("provision-timed-out.json")));
        let mut delete = sample("create-cluster-opted-in.json");
        delete["detail"]["eventName"] = json!("DeleteCluster");
        assert!(!pattern.matches(&delete));
        let mut no_detail = sample("create-cluster-opted-in.json");
        no_detail.as_object_mut().unwrap().remove("detail");
        assert!(!pattern.matches(&no_detail));
        assert!(!pattern.matches(&json!("CreateCluster")));
    }

    #[test]
    fn exact_values_and_lists_in_events() {
        let pattern = Pattern::new(json!({"a": ["x", 5, true, null], "list": ["b"]})).unwrap();
        assert!(pattern.matches(&json!({"a": "x", "list": ["a", "b"]})));
        assert!(pattern.matches(&json!({"a": 5.0, "list": "b"})));
        assert!(pattern.matches(&json!({"a": true, "list": ["b"]})));
        assert!(pattern.matches(&json!({"a": null, "list": ["b"]})));
        assert!(!pattern.matches(&json!({"list": ["b"]})), "a missing field is not null");
        assert!(!pattern.matches(&json!({"a": "X", "list": ["b"]})), "case matters");
        assert!(!pattern.matches(&json!({"a": "x", "list": []})));
        assert!(!pattern.matches(&json!({"a": "x", "list": {"b": 1}})));
    }

    #[test]
    fn operators() {
        let pattern = Pattern::new(json!({
            "name": [{"prefix": "team-"}, {"suffix": "-prod"}],
            "region": [{"anything-but": ["us-west-2", "eu-west-1"]}],
            "mode": [{"equals-ignore-case": "api"}],
        }))
        .unwrap();
        let event = json!({"name": "team-a", "region": "us-east-1", "mode": "API"});
        assert!(pattern.matches(&event));
        assert!(pattern.matches(&json!({"name": "x-prod", "region": "us-east-1", "mode": "Api"})));
        assert!(!pattern.matches(&json!({"name": "x", "region": "us-east-1", "mode": "api"})));
        assert!(!pattern.matches(&json!({"name": "team-a", "region": "eu-west-1", "mode": "api"})));
        assert!(
            !pattern.matches(&json!({"name": "team-a", "mode": "api"})),
            "anything-but needs the field"
        );

        let but =
            Pattern::new(json!({"s": [{"anything-but": {"prefix": "tmp-"}}], "n": [{"anything-but": 3}]})).unwrap();
        assert!(but.matches(&json!({"s": "keep", "n": 4})));
        assert!(!but.matches(&json!({"s": "tmp-1", "n": 4})));
        assert!(!but.matches(&json!({"s": "keep", "n": 3.0})));
    }

    #[test]
    fn exists_looks_at_presence_even_under_a_missing_parent() {
        let pattern = Pattern::new(json!({"detail": {"errorCode": [{"exists": false}]}})).unwrap();
        assert!(pattern.matches(&json!({"detail": {"eventName": "CreateCluster"}})));
        assert!(pattern.matches(&json!({"source": "aws.eks"})));
        assert!(!pattern.matches(&json!({"detail": {"errorCode": "ResourceInUseException"}})));
        let present = Pattern::new(json!({"detail": {"errorCode": [{"exists": true}]}})).unwrap();
        assert!(present.matches(&json!({"detail": {"errorCode": "X"}})));
        assert!(!present.matches(&json!({"detail": {}})));
    }

    #[test]
    fn malformed_or_unsupported_patterns_are_refused() {
        for (pattern, at) in [
            (json!([]), "$"),
            (json!({}), "$"),
            (json!({"source": "aws.eks"}), "$.source"),
            (json!({"source": []}), "$.source"),
            (json!({"detail": {}}), "$.detail"),
            (json!({"n": [{"numeric": [">", 0]}]}), "$.n"),
            (json!({"s": [{"prefix": 1}]}), "$.s"),
            (json!({"s": [{"prefix": "a", "suffix": "b"}]}), "$.s"),
            (json!({"s": [{"anything-but": [[1]]}]}), "$.s"),
            (json!({"s": [{"exists": "yes"}]}), "$.s"),
        ] {
            let error = Pattern::new(pattern.clone()).unwrap_err();
            assert_eq!(error.at, at, "{pattern}: {error}");
        }
    }
}
