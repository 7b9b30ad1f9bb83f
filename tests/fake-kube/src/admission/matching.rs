//! Whether a policy (and its binding) applies to a request: `matchConstraints` (and the
//! binding's `matchResources`), i.e. resource rules, excluded rules and namespace selectors.

use serde_json::Value;

use super::Review;

pub fn matches(policy: &Value, binding: &Value, review: &Review<'_>, namespace_object: Option<&Value>) -> bool {
    let constraints = &policy["spec"]["matchConstraints"];
    let resources = &binding["spec"]["matchResources"];
    in_rules(&constraints["resourceRules"], review)
        && !in_rules(&constraints["excludeResourceRules"], review)
        && (resources.is_null()
            || ((resources["resourceRules"].is_null() || in_rules(&resources["resourceRules"], review))
                && !in_rules(&resources["excludeResourceRules"], review)))
        && selects(&constraints["namespaceSelector"], review, namespace_object)
        && selects(&resources["namespaceSelector"], review, namespace_object)
}

fn in_rules(rules: &Value, review: &Review<'_>) -> bool {
    let resource = match review.attributes.subresource {
        "" => review.kind.plural().to_string(),
        sub => format!("{}/{sub}", review.kind.plural()),
    };
    let has = |list: &Value, value: &str| {
        list.as_array()
            .is_some_and(|items| items.iter().any(|item| item == "*" || item == value))
    };
    rules.as_array().into_iter().flatten().any(|rule| {
        has(&rule["apiGroups"], review.kind.group())
            && has(&rule["apiVersions"], "v1")
            && has(&rule["operations"], review.operation.as_str())
            && has(&rule["resources"], &resource)
            && (rule["resourceNames"].as_array().is_none_or(Vec::is_empty)
                || has(&rule["resourceNames"], &review.attributes.name))
            && match rule["scope"].as_str() {
                Some("Namespaced") => review.kind.namespaced(),
                Some("Cluster") => !review.kind.namespaced(),
                _ => true,
            }
    })
}

/// `matchLabels` of a namespace selector: on the request's namespace, or on the namespace itself
/// when the object is one; other cluster-scoped objects always match (as in the API server).
fn selects(selector: &Value, review: &Review<'_>, namespace_object: Option<&Value>) -> bool {
    let Some(wanted) = selector["matchLabels"].as_object().filter(|m| !m.is_empty()) else {
        return true;
    };
    let namespace = if review.kind == crate::kind::Kind::Namespace {
        review.object.or(review.old_object)
    } else if review.kind.namespaced() {
        namespace_object
    } else {
        return true;
    };
    let labels = namespace.map(|n| &n["metadata"]["labels"]);
    wanted
        .iter()
        .all(|(key, value)| labels.is_some_and(|labels| &labels[key] == value))
}
