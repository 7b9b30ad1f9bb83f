//! Reading IAM policy documents for the doctor: does a trust policy let Fargate assume the role,
//! and does a permissions policy let Fargate pull images. Pure, so the rules are unit-tested.

use serde_json::Value;

/// The service principal Fargate assumes pod execution roles as.
pub const FARGATE_PODS_PRINCIPAL: &str = "eks-fargate-pods.amazonaws.com";
/// The AWS managed policy every pod execution role needs (or its ECR permissions).
pub const FARGATE_POLICY_NAME: &str = "AmazonEKSFargatePodExecutionRolePolicy";
/// What [`FARGATE_POLICY_NAME`] grants: pulling images from ECR.
pub const FARGATE_POLICY_ACTIONS: [&str; 3] = [
    "ecr:GetAuthorizationToken",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
];

/// A JSON value that IAM allows as a string or a list of strings.
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The `Allow` statements of a policy document (`Statement` may be one object or a list).
fn allow_statements(document: &str) -> Vec<Value> {
    let Ok(parsed) = serde_json::from_str::<Value>(document) else {
        return Vec::new();
    };
    let statements = match parsed.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    statements
        .into_iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .collect()
}

/// Whether `pattern` (an IAM action with `*` wildcards, case-insensitive) matches `action`.
fn action_matches(pattern: &str, action: &str) -> bool {
    let (pattern, action) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    match pattern.split_once('*') {
        None => pattern == action,
        Some((prefix, _)) => action.starts_with(prefix),
    }
}

/// Whether the trust policy allows `sts:AssumeRole` to Fargate's pod principal.
pub fn trusts_fargate(trust_policy: &str) -> bool {
    allow_statements(trust_policy).iter().any(|statement| {
        let principal = statement.get("Principal");
        let services = strings(principal.and_then(|p| p.get("Service")));
        let actions = strings(statement.get("Action"));
        services.contains(&FARGATE_PODS_PRINCIPAL) && actions.iter().any(|a| action_matches(a, "sts:AssumeRole"))
    })
}

/// The ECR pull actions no `Allow` statement of `documents` grants.
pub fn missing_pull_actions<'a>(documents: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    let statements: Vec<Value> = documents.into_iter().flat_map(allow_statements).collect();
    FARGATE_POLICY_ACTIONS
        .into_iter()
        .filter(|action| {
            !statements.iter().any(|s| {
                strings(s.get("Action"))
                    .iter()
                    .any(|pattern| action_matches(pattern, action))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fargate_must_be_trusted_with_assume_role() {
        let fargate = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks-fargate-pods.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:eks:*:*:fargateprofile/*"}}}]}"#;
        assert!(trusts_fargate(fargate));
        let listed = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","eks-fargate-pods.amazonaws.com"]},"Action":["sts:*"]}}"#;
        assert!(trusts_fargate(listed));
        let ec2 = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(!trusts_fargate(ec2));
        let denied = r#"{"Statement":[{"Effect":"Deny","Principal":{"Service":"eks-fargate-pods.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(!trusts_fargate(denied));
        assert!(!trusts_fargate("not json"));
    }

    #[test]
    fn inline_policies_may_grant_the_pull_actions() {
        let full = r#"{"Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}"#;
        assert!(missing_pull_actions([full]).is_empty());
        assert!(
            missing_pull_actions([r#"{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}"#]).is_empty()
        );
        let logs = r#"{"Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}"#;
        assert_eq!(missing_pull_actions([logs]), FARGATE_POLICY_ACTIONS.to_vec());
        let partial = r#"{"Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}"#;
        assert_eq!(
            missing_pull_actions([partial, logs]),
            ["ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer"]
        );
    }
}
