//! The file system policy as EFS evaluates it for an NFS client. Fargate mounts without IAM, so
//! the client is anonymous: only statements whose principal is everyone (`*`, `{"AWS": "*"}`)
//! apply. An explicit `Deny` wins, then an `Allow` is needed; without a policy EFS allows every
//! client that reaches a mount target. The condition operators and keys EFS documents for client
//! access are evaluated (`Bool`, `StringEquals`, `StringNotEquals`, `StringLike`; the keys
//! `aws:SecureTransport`, `elasticfilesystem:AccessedViaMountTarget`,
//! `elasticfilesystem:AccessPointArn`); a statement with any other operator never matches.

use serde_json::Value;

/// What the client's NFS mount tells EFS.
#[derive(Clone, Copy, Debug)]
pub struct ClientRequest<'a> {
    pub secure_transport: bool,
    pub via_mount_target: bool,
    pub access_point_arn: Option<&'a str>,
}

impl ClientRequest<'_> {
    fn key(&self, key: &str) -> Option<String> {
        match key.to_ascii_lowercase().as_str() {
            "aws:securetransport" => Some(self.secure_transport.to_string()),
            "elasticfilesystem:accessedviamounttarget" => Some(self.via_mount_target.to_string()),
            "elasticfilesystem:accesspointarn" => self.access_point_arn.map(str::to_string),
            _ => None,
        }
    }
}

/// Whether `policy` (a file system policy document; `None` when it has none) lets the client do
/// `action` (`elasticfilesystem:ClientMount`, `ClientWrite` or `ClientRootAccess`); `Err` names
/// the statement that denies it.
pub fn allows(policy: Option<&Value>, action: &str, request: &ClientRequest) -> Result<(), String> {
    let Some(policy) = policy else {
        return Ok(());
    };
    let applying: Vec<&Value> = policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            anyone(&s["Principal"]) && covers(&s["Action"], action) && conditions_hold(&s["Condition"], request)
        })
        .collect();
    if let Some(deny) = applying.iter().find(|s| s["Effect"] == "Deny") {
        return Err(format!(
            "denied by statement {}",
            deny["Sid"].as_str().unwrap_or("(no Sid)")
        ));
    }
    if applying.iter().any(|s| s["Effect"] == "Allow") {
        Ok(())
    } else {
        Err("no statement allows it".into())
    }
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn anyone(principal: &Value) -> bool {
    principal == "*" || strings(&principal["AWS"]).contains(&"*")
}

fn covers(actions: &Value, action: &str) -> bool {
    strings(actions)
        .iter()
        .any(|a| *a == "*" || a.eq_ignore_ascii_case("elasticfilesystem:*") || a.eq_ignore_ascii_case(action))
}

fn conditions_hold(condition: &Value, request: &ClientRequest) -> bool {
    let Some(operators) = condition.as_object() else {
        return true;
    };
    operators.iter().all(|(operator, keys)| {
        keys.as_object().is_some_and(|keys| {
            keys.iter().all(|(key, wanted)| {
                let wanted = strings(wanted);
                let actual = request.key(key);
                match (operator.as_str(), actual) {
                    ("Bool" | "StringEquals", Some(actual)) => wanted.iter().any(|w| w.eq_ignore_ascii_case(&actual)),
                    ("StringLike", Some(actual)) => wanted.iter().any(|w| glob(w, &actual)),
                    // A negated operator holds when the request lacks the key, as IAM evaluates it.
                    ("StringNotEquals", Some(actual)) => !wanted.contains(&actual.as_str()),
                    ("StringNotEquals", None) => true,
                    _ => false,
                }
            })
        })
    })
}

/// IAM's `*` and `?` wildcards.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.len() == text.len() && pattern.chars().zip(text.chars()).all(|(p, t)| p == '?' || p == t),
        Some((head, rest)) => {
            text.len() >= head.len()
                && glob(head, &text[..head.len()])
                && (head.len()..=text.len()).any(|i| glob(rest, &text[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const AP: &str = "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-1";

    /// The workflow's policy (functions/core/src/steps/efs/policy.rs), in short.
    fn workflow_policy() -> Value {
        let client = [
            "elasticfilesystem:ClientMount",
            "elasticfilesystem:ClientWrite",
            "elasticfilesystem:ClientRootAccess",
        ];
        json!({"Statement": [
            {"Sid": "DenyUnencryptedTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "DenyOutsideMountTargets", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": client,
             "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "false"}}},
            {"Sid": "DenyOutsideNamespaceAccessPoints", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": client,
             "Condition": {"StringNotEquals": {"elasticfilesystem:AccessPointArn": [AP]}}},
            {"Sid": "MountAndWrite", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
             "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"},
                           "StringEquals": {"elasticfilesystem:AccessPointArn": [AP]}}}
        ]})
    }

    fn request(access_point_arn: Option<&str>) -> ClientRequest<'_> {
        ClientRequest {
            secure_transport: true,
            via_mount_target: true,
            access_point_arn,
        }
    }

    #[test]
    fn the_workflows_policy_opens_only_its_access_point_and_never_as_root() {
        let policy = workflow_policy();
        let mount = "elasticfilesystem:ClientMount";
        assert_eq!(allows(Some(&policy), mount, &request(Some(AP))), Ok(()));
        assert_eq!(
            allows(Some(&policy), mount, &request(None)),
            Err("denied by statement DenyOutsideNamespaceAccessPoints".into())
        );
        let other = "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-2";
        assert!(allows(Some(&policy), mount, &request(Some(other))).is_err());
        let plain_text = ClientRequest {
            secure_transport: false,
            ..request(Some(AP))
        };
        assert_eq!(
            allows(Some(&policy), mount, &plain_text),
            Err("denied by statement DenyUnencryptedTransport".into())
        );
        assert_eq!(
            allows(Some(&policy), "elasticfilesystem:ClientRootAccess", &request(Some(AP))),
            Err("no statement allows it".into())
        );
    }

    #[test]
    fn without_a_policy_every_client_is_allowed_and_wildcards_match() {
        assert_eq!(
            allows(None, "elasticfilesystem:ClientRootAccess", &request(None)),
            Ok(())
        );
        let policy = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "elasticfilesystem:*",
            "Condition": {"StringLike": {"elasticfilesystem:AccessPointArn": "arn:*:access-point/fsap-?"}}}]});
        assert_eq!(
            allows(Some(&policy), "elasticfilesystem:ClientRootAccess", &request(Some(AP))),
            Ok(())
        );
        assert!(allows(Some(&policy), "elasticfilesystem:ClientMount", &request(None)).is_err());
        let someone = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/r"},
            "Action": "*"}]});
        assert!(
            allows(Some(&someone), "elasticfilesystem:ClientMount", &request(None)).is_err(),
            "not anonymous"
        );
    }
}
