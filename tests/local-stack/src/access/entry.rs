//! One access entry and its policy associations, as the store keeps them and as EKS renders them
//! in JSON.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::error::AccessError;
use super::model::AccessScope;
use super::principal::Principal;

/// `type` of an entry for people and tools; the others are for nodes.
pub(crate) const STANDARD: &str = "STANDARD";
const NODE_TYPES: [&str; 6] = [
    "EC2",
    "EC2_LINUX",
    "EC2_WINDOWS",
    "FARGATE_LINUX",
    "HYBRID_LINUX",
    "HYPERPOD_LINUX",
];

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    pub cluster: String,
    pub principal: Principal,
    pub arn: String,
    pub kind: String,
    pub username: String,
    pub kubernetes_groups: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub created_at: f64,
    pub modified_at: f64,
    /// The create's `clientRequestToken`: a retry with the same token gets the entry back.
    pub client_request_token: Option<String>,
    /// By policy ARN.
    pub policies: BTreeMap<String, Association>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Association {
    pub policy_arn: String,
    pub scope: AccessScope,
    pub associated_at: f64,
    pub modified_at: f64,
}

/// A `CreateAccessEntry` request, validated.
#[derive(Clone, Debug)]
pub(crate) struct NewEntry {
    pub principal: Principal,
    pub kind: String,
    pub username: String,
    pub kubernetes_groups: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub client_request_token: Option<String>,
}

impl NewEntry {
    /// Applies EKS's rules: an IAM role or user; node entries only for roles and with EKS's own
    /// username and no groups; the default username when none is given.
    pub(crate) fn validate(
        principal_arn: &str,
        kind: Option<String>,
        username: Option<String>,
        kubernetes_groups: Vec<String>,
        tags: BTreeMap<String, String>,
        client_request_token: Option<String>,
    ) -> Result<Self, AccessError> {
        let invalid = |message: String| Err(AccessError::InvalidParameter(message));
        let Some(principal) = Principal::parse(principal_arn) else {
            return invalid(format!(
                "The specified principalArn is invalid: {principal_arn} is not the ARN of an IAM role or user"
            ));
        };
        let kind = kind.unwrap_or_else(|| STANDARD.to_string());
        let username = if kind == STANDARD {
            username.unwrap_or_else(|| principal.default_username())
        } else if NODE_TYPES.contains(&kind.as_str()) {
            if !principal.is_role {
                return invalid(format!("The principalArn of a {kind} access entry must be an IAM role"));
            }
            if username.is_some() || !kubernetes_groups.is_empty() {
                return invalid(format!(
                    "username and kubernetesGroups cannot be set on a {kind} access entry"
                ));
            }
            node_username(&kind).to_string()
        } else {
            return invalid(format!(
                "Invalid type {kind}: expected one of STANDARD, {}",
                NODE_TYPES.join(", ")
            ));
        };
        if username.is_empty() {
            return invalid("username cannot be empty".into());
        }
        Ok(Self {
            principal,
            kind,
            username,
            kubernetes_groups,
            tags,
            client_request_token,
        })
    }
}

/// The name a node's kubelet gets: Fargate and hybrid nodes by session, EC2 ones by DNS name.
fn node_username(kind: &str) -> &'static str {
    match kind {
        "FARGATE_LINUX" | "HYBRID_LINUX" => "system:node:{{SessionName}}",
        _ => "system:node:{{EC2PrivateDNSName}}",
    }
}

impl Entry {
    /// `{accessEntry}`'s value in `CreateAccessEntry`, `DescribeAccessEntry` and `UpdateAccessEntry`.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "clusterName": self.cluster,
            "principalArn": self.principal.arn,
            "kubernetesGroups": self.kubernetes_groups,
            "accessEntryArn": self.arn,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "tags": self.tags,
            "username": self.username,
            "type": self.kind,
        })
    }
}

impl Association {
    /// An `AssociatedAccessPolicy`.
    pub(crate) fn to_json(&self) -> Value {
        let scope = match &self.scope {
            AccessScope::Cluster => json!({ "type": "cluster", "namespaces": [] }),
            AccessScope::Namespaces(namespaces) => json!({ "type": "namespace", "namespaces": namespaces }),
        };
        json!({
            "policyArn": self.policy_arn,
            "accessScope": scope,
            "associatedAt": self.associated_at,
            "modifiedAt": self.modified_at,
        })
    }
}

/// `accessScope` of an `AssociateAccessPolicy` request.
pub(crate) fn parse_scope(kind: Option<&str>, namespaces: Vec<String>) -> Result<AccessScope, AccessError> {
    match (kind, namespaces.is_empty()) {
        (Some("cluster"), true) => Ok(AccessScope::Cluster),
        (Some("namespace"), false) => Ok(AccessScope::Namespaces(namespaces)),
        (Some("cluster"), false) => Err(AccessError::InvalidParameter(
            "namespaces cannot be specified with an accessScope of type cluster".into(),
        )),
        (Some("namespace"), true) => Err(AccessError::InvalidParameter(
            "At least one namespace must be specified with an accessScope of type namespace".into(),
        )),
        (other, _) => Err(AccessError::InvalidParameter(format!(
            "Invalid accessScope type {}: expected cluster or namespace",
            other.unwrap_or("(none)")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::123456789012:role/Builder";

    fn new(principal: &str, kind: Option<&str>, username: Option<&str>) -> Result<NewEntry, AccessError> {
        NewEntry::validate(
            principal,
            kind.map(str::to_string),
            username.map(str::to_string),
            vec![],
            BTreeMap::new(),
            None,
        )
    }

    #[test]
    fn standard_entries_default_their_username() {
        let entry = new(ROLE, None, None).unwrap();
        assert_eq!(entry.kind, STANDARD);
        assert_eq!(
            entry.username,
            "arn:aws:sts::123456789012:assumed-role/Builder/{{SessionName}}"
        );
        assert_eq!(new(ROLE, None, Some("builder")).unwrap().username, "builder");
    }

    #[test]
    fn node_entries_are_for_roles_with_eks_usernames() {
        let fargate = new(ROLE, Some("FARGATE_LINUX"), None).unwrap();
        assert_eq!(fargate.username, "system:node:{{SessionName}}");
        assert!(new(ROLE, Some("EC2_LINUX"), Some("me")).is_err());
        assert!(new("arn:aws:iam::123456789012:user/u", Some("EC2_LINUX"), None).is_err());
        assert!(new(ROLE, Some("SUPERUSER"), None).is_err());
    }

    #[test]
    fn scopes_need_namespaces_exactly_when_namespaced() {
        assert_eq!(parse_scope(Some("cluster"), vec![]), Ok(AccessScope::Cluster));
        assert_eq!(
            parse_scope(Some("namespace"), vec!["a".into()]),
            Ok(AccessScope::Namespaces(vec!["a".into()]))
        );
        assert!(parse_scope(Some("namespace"), vec![]).is_err());
        assert!(parse_scope(Some("cluster"), vec!["a".into()]).is_err());
        assert!(parse_scope(None, vec![]).is_err());
    }
}
