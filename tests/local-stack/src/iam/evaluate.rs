//! IAM's decision for one request against a role's identity policies: an explicit `Deny` wins,
//! else any matching `Allow`, else the implicit deny. A statement matches when its `Action` (or
//! `NotAction`), its `Resource` (or `NotResource`) and every condition hold; condition operators
//! follow AWS's documented semantics, including what a key missing from the request means
//! (`IfExists`, the negated operators, `ForAllValues`/`ForAnyValue`, `Null`).
//!
//! Only the operators below are evaluated. A policy that uses another one, a policy variable or
//! a `Principal` is refused when it is loaded ([`check_policy`]), never guessed at: the local stack
//! must not allow what AWS would deny.

use std::collections::BTreeMap;

use serde_json::Value;

/// One authorization: the action, the one resource it is on, and the request's context keys
/// (lower-cased names; a single-valued key has one value, a multi-valued one any number).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub action: String,
    pub resource: String,
    pub context: BTreeMap<String, Vec<String>>,
}

impl Request {
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }

    /// Sets a context key (IAM's key names are case-insensitive).
    pub fn with(mut self, key: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.context
            .insert(key.to_ascii_lowercase(), values.into_iter().map(Into::into).collect());
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// A `Deny` statement matched (its `Sid`, if it has one).
    ExplicitDeny(Option<String>),
    /// No `Allow` statement matched.
    ImplicitDeny,
}

/// A policy the evaluator cannot decide faithfully.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(String);

/// The decision for `request` under `policies` (policy documents, already checked).
pub fn decide(policies: &[Value], request: &Request) -> Decision {
    let mut allowed = false;
    for statement in policies.iter().flat_map(statements) {
        if !applies(statement, request) {
            continue;
        }
        if statement["Effect"] == "Deny" {
            return Decision::ExplicitDeny(statement["Sid"].as_str().map(str::to_string));
        }
        allowed = true;
    }
    if allowed {
        Decision::Allowed
    } else {
        Decision::ImplicitDeny
    }
}

/// Refuses what [`decide`] cannot evaluate faithfully, naming the statement.
pub fn check_policy(policy: &Value) -> Result<(), PolicyError> {
    for statement in statements(policy) {
        let sid = statement["Sid"].as_str().unwrap_or("(no Sid)");
        let refuse = |what: String| Err(PolicyError(format!("statement {sid}: {what}")));
        if !matches!(statement["Effect"].as_str(), Some("Allow" | "Deny")) {
            return refuse("Effect is neither Allow nor Deny".into());
        }
        if statement.get("Principal").is_some() || statement.get("NotPrincipal").is_some() {
            return refuse("an identity policy names no Principal".into());
        }
        if statement.get("Action").is_none() == statement.get("NotAction").is_none() {
            return refuse("needs exactly one of Action and NotAction".into());
        }
        if statement.get("Resource").is_none() == statement.get("NotResource").is_none() {
            return refuse("needs exactly one of Resource and NotResource".into());
        }
        if statement.to_string().contains("${") {
            return refuse("policy variables are not evaluated by the local stack".into());
        }
        for (operator, _) in statement["Condition"].as_object().into_iter().flatten() {
            if Operator::parse(operator).is_none() {
                return refuse(format!(
                    "condition operator {operator} is not evaluated by the local stack"
                ));
            }
        }
    }
    Ok(())
}

fn statements(policy: &Value) -> impl Iterator<Item = &Value> {
    match &policy["Statement"] {
        Value::Array(list) => list.iter().collect::<Vec<_>>(),
        single @ Value::Object(_) => vec![single],
        _ => Vec::new(),
    }
    .into_iter()
}

fn applies(statement: &Value, request: &Request) -> bool {
    let action = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(actions), _) => any_glob(actions, &request.action, true),
        (None, Some(actions)) => !any_glob(actions, &request.action, true),
        (None, None) => false,
    };
    let resource = match (statement.get("Resource"), statement.get("NotResource")) {
        (Some(resources), _) => any_glob(resources, &request.resource, false),
        (None, Some(resources)) => !any_glob(resources, &request.resource, false),
        (None, None) => false,
    };
    action && resource && conditions_hold(&statement["Condition"], request)
}

/// Whether any pattern of `patterns` (a string or a list) matches `value`.
fn any_glob(patterns: &Value, value: &str, ignore_case: bool) -> bool {
    values(patterns).iter().any(|pattern| glob(pattern, value, ignore_case))
}

fn values(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(values).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
fn glob(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let fold = |s: &str| {
        if ignore_case {
            s.to_ascii_lowercase()
        } else {
            s.to_string()
        }
    };
    let (pattern, value) = (fold(pattern).into_bytes(), fold(value).into_bytes());
    let (mut p, mut v, mut star, mut resume) = (0, 0, None, 0);
    while v < value.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == value[v]) {
            p += 1;
            v += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            resume = v;
            p += 1;
        } else if let Some(at) = star {
            p = at + 1;
            resume += 1;
            v = resume;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetQualifier {
    None,
    ForAllValues,
    ForAnyValue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    ArnEquals,
    ArnLike,
    Bool,
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Operator {
    set: SetQualifier,
    base: Base,
    negated: bool,
    if_exists: bool,
}

impl Operator {
    fn parse(name: &str) -> Option<Self> {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (SetQualifier::ForAllValues, rest)
        } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (SetQualifier::ForAnyValue, rest)
        } else {
            (SetQualifier::None, name)
        };
        let (rest, if_exists) = match rest.strip_suffix("IfExists") {
            Some(rest) if rest != "Null" => (rest, true),
            _ => (rest, false),
        };
        let (base, negated) = match rest {
            "StringEquals" => (Base::StringEquals, false),
            "StringNotEquals" => (Base::StringEquals, true),
            "StringEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, false),
            "StringNotEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, true),
            "StringLike" => (Base::StringLike, false),
            "StringNotLike" => (Base::StringLike, true),
            "ArnEquals" => (Base::ArnEquals, false),
            "ArnNotEquals" => (Base::ArnEquals, true),
            "ArnLike" => (Base::ArnLike, false),
            "ArnNotLike" => (Base::ArnLike, true),
            "Bool" => (Base::Bool, false),
            "Null" if set == SetQualifier::None => (Base::Null, false),
            _ => return None,
        };
        Some(Self {
            set,
            base,
            negated,
            if_exists,
        })
    }

    /// Whether one request value matches one policy value, before negation.
    fn matches(self, policy: &str, request: &str) -> bool {
        match self.base {
            Base::StringEquals | Base::ArnEquals => policy == request,
            Base::StringEqualsIgnoreCase => policy.eq_ignore_ascii_case(request),
            Base::StringLike | Base::ArnLike => glob(policy, request, false),
            Base::Bool => policy.eq_ignore_ascii_case(request),
            Base::Null => unreachable!("Null compares presence, not values"),
        }
    }

    /// Whether one request value satisfies the operator against all of the policy's values.
    fn satisfied_by(self, policy: &[String], request: &str) -> bool {
        let any = policy.iter().any(|p| self.matches(p, request));
        if self.negated { !any } else { any }
    }

    fn holds(self, policy: &[String], request: Option<&[String]>) -> bool {
        let present = request.filter(|values| !values.is_empty());
        if self.base == Base::Null {
            let wants_absent = policy.iter().any(|p| p.eq_ignore_ascii_case("true"));
            return wants_absent == present.is_none();
        }
        let Some(values) = present else {
            // AWS: a missing key fails the condition, except with IfExists, a negated operator,
            // or ForAllValues (vacuously true); ForAnyValue fails.
            return match self.set {
                SetQualifier::ForAllValues => true,
                SetQualifier::ForAnyValue => false,
                SetQualifier::None => self.if_exists || self.negated,
            };
        };
        match self.set {
            SetQualifier::ForAllValues => values.iter().all(|v| self.satisfied_by(policy, v)),
            SetQualifier::ForAnyValue => values.iter().any(|v| self.satisfied_by(policy, v)),
            // A single-valued key: its one value.
            SetQualifier::None => values.iter().all(|v| self.satisfied_by(policy, v)),
        }
    }
}

fn conditions_hold(conditions: &Value, request: &Request) -> bool {
    let Some(conditions) = conditions.as_object() else {
        return true;
    };
    conditions.iter().all(|(operator, keys)| {
        let Some(operator) = Operator::parse(operator) else {
            return false;
        };
        keys.as_object().into_iter().flatten().all(|(key, policy)| {
            let request_values = request.context.get(&key.to_ascii_lowercase()).map(Vec::as_slice);
            operator.holds(&values(policy), request_values)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(statement: Value) -> Vec<Value> {
        vec![json!({ "Version": "2012-10-17", "Statement": [statement] })]
    }

    #[test]
    fn actions_and_resources_match_with_wildcards_and_the_action_ignores_case() {
        let allow = policy(json!({
            "Effect": "Allow",
            "Action": ["eks:Describe*"],
            "Resource": "arn:aws:eks:us-east-1:1:cluster/*"
        }));
        let cluster = "arn:aws:eks:us-east-1:1:cluster/demo";
        assert_eq!(
            decide(&allow, &Request::new("EKS:DescribeCluster", cluster)),
            Decision::Allowed
        );
        assert_eq!(
            decide(&allow, &Request::new("eks:DeleteCluster", cluster)),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(
                &allow,
                &Request::new("eks:DescribeCluster", "arn:aws:eks:us-east-1:2:cluster/demo")
            ),
            Decision::ImplicitDeny
        );
        assert!(glob("a?c*", "abcdef", false));
        assert!(!glob("a?c", "abcd", false));
        assert!(glob("*", "", false));
    }

    #[test]
    fn an_explicit_deny_wins_over_any_allow() {
        let policies = vec![
            json!({ "Statement": { "Effect": "Allow", "Action": "*", "Resource": "*" } }),
            json!({ "Statement": [{ "Sid": "NoDeletes", "Effect": "Deny", "Action": "eks:Delete*", "Resource": "*" }] }),
        ];
        assert_eq!(
            decide(&policies, &Request::new("eks:DeleteCluster", "x")),
            Decision::ExplicitDeny(Some("NoDeletes".into()))
        );
        assert_eq!(
            decide(&policies, &Request::new("eks:ListClusters", "*")),
            Decision::Allowed
        );
    }

    #[test]
    fn a_missing_key_fails_a_plain_condition_and_passes_if_exists_negated_and_for_all_values() {
        let with = |operator: &str| {
            policy(json!({
                "Effect": "Allow", "Action": "*", "Resource": "*",
                "Condition": { operator: { "aws:ResourceTag/app": "ours" } }
            }))
        };
        let bare = Request::new("x:Y", "r");
        let tagged = |value: &str| Request::new("x:Y", "r").with("aws:ResourceTag/app", [value]);
        assert_eq!(decide(&with("StringEquals"), &bare), Decision::ImplicitDeny);
        assert_eq!(decide(&with("StringEquals"), &tagged("ours")), Decision::Allowed);
        assert_eq!(decide(&with("StringEquals"), &tagged("theirs")), Decision::ImplicitDeny);
        assert_eq!(decide(&with("StringEqualsIfExists"), &bare), Decision::Allowed);
        assert_eq!(decide(&with("StringNotEquals"), &bare), Decision::Allowed);
        assert_eq!(
            decide(&with("StringNotEquals"), &tagged("ours")),
            Decision::ImplicitDeny
        );
        assert_eq!(decide(&with("ForAllValues:StringEquals"), &bare), Decision::Allowed);
        assert_eq!(decide(&with("ForAnyValue:StringEquals"), &bare), Decision::ImplicitDeny);
        // Keys are case-insensitive.
        let upper = Request::new("x:Y", "r").with("AWS:RESOURCETAG/APP", ["ours"]);
        assert_eq!(decide(&with("StringEquals"), &upper), Decision::Allowed);
    }

    #[test]
    fn for_all_values_needs_every_request_value_allowed_and_null_tests_presence() {
        let groups = policy(json!({
            "Effect": "Allow", "Action": "eks:CreateAccessEntry", "Resource": "*",
            "Condition": {
                "ForAllValues:StringEquals": { "eks:kubernetesGroups": ["efs-fargate-workflow"] },
                "Null": { "eks:kubernetesGroups": "false" }
            }
        }));
        let request = |groups: &[&str]| {
            Request::new("eks:CreateAccessEntry", "c").with("eks:kubernetesGroups", groups.iter().copied())
        };
        assert_eq!(decide(&groups, &request(&["efs-fargate-workflow"])), Decision::Allowed);
        assert_eq!(
            decide(&groups, &request(&["efs-fargate-workflow", "system:masters"])),
            Decision::ImplicitDeny
        );
        // No group at all: ForAllValues alone would pass; the Null condition refuses it.
        assert_eq!(decide(&groups, &request(&[])), Decision::ImplicitDeny);
    }

    #[test]
    fn bool_and_arn_operators_compare_as_aws_does() {
        let encrypted = policy(json!({
            "Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {
                "Bool": { "elasticfilesystem:Encrypted": "true" },
                "ArnLike": { "eks:principalArn": "arn:aws:iam::1:role/efs-*" }
            }
        }));
        let request = |encrypted: &str, principal: &str| {
            Request::new("x:Y", "r")
                .with("elasticfilesystem:Encrypted", [encrypted])
                .with("eks:principalArn", [principal])
        };
        assert_eq!(
            decide(&encrypted, &request("True", "arn:aws:iam::1:role/efs-a")),
            Decision::Allowed
        );
        assert_eq!(
            decide(&encrypted, &request("false", "arn:aws:iam::1:role/efs-a")),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(&encrypted, &request("true", "arn:aws:iam::1:role/other")),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn what_cannot_be_evaluated_faithfully_is_refused_at_load() {
        let refused = |statement: Value| {
            check_policy(&json!({ "Statement": [statement] }))
                .unwrap_err()
                .to_string()
        };
        assert!(
            refused(json!({"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}))
            .contains("IpAddress")
        );
        assert!(
            refused(json!({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::${aws:username}"}))
                .contains("policy variables")
        );
        assert!(
            refused(json!({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})).contains("Principal")
        );
        assert!(refused(json!({"Effect": "Allow", "Action": "*"})).contains("Resource"));
        assert!(
            check_policy(
                &json!({ "Statement": [{"Effect": "Deny", "NotAction": "eks:*", "NotResource": "*",
            "Condition": {"StringNotLikeIfExists": {"k": "v"}, "Null": {"k2": "true"}}}] })
            )
            .is_ok()
        );
    }
}
