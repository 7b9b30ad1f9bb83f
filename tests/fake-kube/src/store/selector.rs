//! `labelSelector` (`k=v`, `k==v`, `k!=v`, `k`, `!k`; comma = AND) and `fieldSelector`
//! (`=`, `==`, `!=` on the few fields the API server indexes for the served kinds).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::status::ApiError;
use crate::kind::Kind;
use crate::store::meta;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    pub fn parse(selector: &str) -> Result<Self, ApiError> {
        let mut requirements = Vec::new();
        for term in selector.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            requirements.push(parse_label_term(term)?);
        }
        Ok(Self(requirements))
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|requirement| match requirement {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        })
    }
}

fn parse_label_term(term: &str) -> Result<Requirement, ApiError> {
    let unsupported = || {
        ApiError::bad_request(format!(
            "unable to parse requirement: {term:?} (this fake supports k=v, k==v, k!=v, k and !k)"
        ))
    };
    if term.contains([' ', '(', ')', '<', '>']) {
        return Err(unsupported());
    }
    let requirement = if let Some((key, value)) = term.split_once("!=") {
        Requirement::NotEquals(key.into(), value.into())
    } else if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
        Requirement::Equals(key.into(), value.into())
    } else if let Some(key) = term.strip_prefix('!') {
        Requirement::DoesNotExist(key.into())
    } else {
        Requirement::Exists(term.into())
    };
    let key = match &requirement {
        Requirement::Equals(k, _)
        | Requirement::NotEquals(k, _)
        | Requirement::Exists(k)
        | Requirement::DoesNotExist(k) => k,
    };
    if key.is_empty() || key.contains(['=', '!']) {
        return Err(unsupported());
    }
    Ok(requirement)
}

/// A parsed field selector, for one kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(&'static str, bool, String)>);

impl FieldSelector {
    pub fn parse(kind: Kind, selector: &str) -> Result<Self, ApiError> {
        let mut terms = Vec::new();
        for term in selector.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!("invalid selector: '{term}'")));
            };
            let field = supported_field(kind, field)
                .ok_or_else(|| ApiError::bad_request(format!("field label not supported: {field}")))?;
            terms.push((field, equal, value.to_string()));
        }
        Ok(Self(terms))
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, equal, value)| {
            let pointer = format!("/{}", field.replace('.', "/"));
            let actual = object.pointer(&pointer).and_then(Value::as_str).unwrap_or_default();
            (actual == value) == *equal
        })
    }
}

/// The fields the API server accepts in a field selector for `kind`.
fn supported_field(kind: Kind, field: &str) -> Option<&'static str> {
    const COMMON: [&str; 2] = ["metadata.name", "metadata.namespace"];
    const EVENT: [&str; 7] = [
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "reason",
        "type",
    ];
    const POD: [&str; 3] = ["spec.nodeName", "spec.schedulerName", "status.phase"];
    const PERSISTENT: [&str; 1] = ["status.phase"];
    let specific: &[&'static str] = match kind {
        Kind::Event => &EVENT,
        Kind::Pod => &POD,
        Kind::PersistentVolume | Kind::PersistentVolumeClaim | Kind::Namespace => &PERSISTENT,
        _ => &[],
    };
    COMMON.iter().chain(specific).find(|f| **f == field).copied()
}

/// Both selectors of a list request.
#[derive(Clone, Debug, Default)]
pub struct Selectors {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub fn matches(&self, object: &Value) -> bool {
        self.labels.matches(&meta::labels(object)) && self.fields.matches(object)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn label_selector_terms_are_anded() {
        let selector = LabelSelector::parse("app=web,tier!=db,owner,!temp").unwrap();
        assert!(selector.matches(&labels(&[("app", "web"), ("owner", "me")])));
        assert!(selector.matches(&labels(&[("app", "web"), ("owner", "me"), ("tier", "fe")])));
        assert!(!selector.matches(&labels(&[("app", "web"), ("owner", "me"), ("tier", "db")])));
        assert!(!selector.matches(&labels(&[("app", "web")])));
        assert!(!selector.matches(&labels(&[("app", "web"), ("owner", "me"), ("temp", "")])));
        assert!(LabelSelector::parse("a==b").unwrap().matches(&labels(&[("a", "b")])));
        assert!(LabelSelector::parse("").unwrap().matches(&labels(&[])));
    }

    #[test]
    fn set_based_label_selectors_are_refused() {
        let err = LabelSelector::parse("env in (a,b)").unwrap_err();
        assert_eq!(err.status_code(), 400);
    }

    #[test]
    fn field_selectors_know_their_fields() {
        let event = json!({"metadata": {"name": "e"}, "involvedObject": {"name": "web"}, "reason": "FailedMount"});
        let selector = FieldSelector::parse(Kind::Event, "involvedObject.name=web,reason!=Started").unwrap();
        assert!(selector.matches(&event));
        assert!(
            !FieldSelector::parse(Kind::Event, "metadata.name=x")
                .unwrap()
                .matches(&event)
        );
        let err = FieldSelector::parse(Kind::ConfigMap, "involvedObject.name=web").unwrap_err();
        assert_eq!(err.message, "field label not supported: involvedObject.name");
    }
}
