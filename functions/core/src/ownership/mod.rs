//! Names and ownership tags. Every AWS resource the workflow creates carries these tags (every
//! Kubernetes object these labels), for people and for discovery: what the workflow may delete is
//! decided by its ledger (`crate::ledger`), never by tags, which anyone allowed to tag can write.

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// The tags of one AWS resource.
pub type Tags = BTreeMap<String, String>;

pub const MANAGED_BY_KEY: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "efs-fargate-workflow";
pub const CLUSTER_KEY: &str = "efs-fargate-workflow/cluster";
pub const NAMESPACE_KEY: &str = "efs-fargate-workflow/namespace";
pub const RUN_ID_KEY: &str = "efs-fargate-workflow/run-id";
/// The deployment (stack) that created the resource: two deployments in one account tell their
/// resources apart at a glance (their ledgers never share a record).
pub const DEPLOYMENT_KEY: &str = "efs-fargate-workflow/deployment";
/// The file system's retention at creation (`delete` or `retain`), for people: the ledger's record
/// is what cleanup reads.
pub const RETENTION_KEY: &str = "efs-fargate-workflow/retention";
pub const RETAIN_VALUE: &str = "retain";
/// The keys of [`Owner::tags`]: template.yaml's `aws:TagKeys` conditions allow exactly these (a
/// local-stack test holds the two together).
pub const TAG_KEYS: [&str; 6] = [
    "Name",
    MANAGED_BY_KEY,
    CLUSTER_KEY,
    NAMESPACE_KEY,
    RUN_ID_KEY,
    DEPLOYMENT_KEY,
];
/// Every CloudWatch alarm the workflow creates is named so (template.yaml's alarm ARNs name it).
pub const ALARM_NAME_PREFIX: &str = "efs-fargate-workflow-";
/// The tag (value `true`) by which a cluster opts in to being provisioned. Fixed, because the
/// template's IAM conditions name it (`aws:ResourceTag/efs-fargate-workflow/provision`), and IAM
/// condition keys cannot be parameters.
pub const OPT_IN_TAG_KEY: &str = "efs-fargate-workflow/provision";

/// Who owns a resource: one namespace of one cluster, provisioned by one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub cluster: String,
    pub namespace: String,
}

impl Owner {
    /// The namespace's part of the ledger.
    pub fn place(&self) -> crate::ledger::Place<'_> {
        crate::ledger::Place::Namespace {
            cluster: &self.cluster,
            namespace: &self.namespace,
        }
    }

    pub fn new(cluster: impl Into<String>, namespace: impl Into<String>) -> Self {
        Self {
            cluster: cluster.into(),
            namespace: namespace.into(),
        }
    }

    /// The tags a new resource gets: for people in the console, and for discovery.
    pub fn tags(&self, name: &str, run_id: &str, deployment: &str) -> Vec<(String, String)> {
        vec![
            ("Name".to_string(), name.to_string()),
            (MANAGED_BY_KEY.to_string(), MANAGED_BY_VALUE.to_string()),
            (CLUSTER_KEY.to_string(), self.cluster.clone()),
            (NAMESPACE_KEY.to_string(), self.namespace.clone()),
            (RUN_ID_KEY.to_string(), run_id.to_string()),
            (DEPLOYMENT_KEY.to_string(), deployment.to_string()),
        ]
    }

    /// True only when the tags say this cluster's namespace owns the resource.
    pub fn owns<'a>(&self, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        let tags: HashMap<&str, &str> = tags.into_iter().collect();
        tags.get(MANAGED_BY_KEY) == Some(&MANAGED_BY_VALUE)
            && tags.get(CLUSTER_KEY) == Some(&self.cluster.as_str())
            && tags.get(NAMESPACE_KEY) == Some(&self.namespace.as_str())
    }

    /// The labels a new Kubernetes object gets: the tags' keys, with values made valid label values.
    pub fn labels(&self, run_id: &str, deployment: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            (MANAGED_BY_KEY.to_string(), MANAGED_BY_VALUE.to_string()),
            (CLUSTER_KEY.to_string(), label_value(&self.cluster)),
            (NAMESPACE_KEY.to_string(), label_value(&self.namespace)),
            (RUN_ID_KEY.to_string(), label_value(run_id)),
            (DEPLOYMENT_KEY.to_string(), label_value(deployment)),
        ])
    }

    /// Selects the objects labelled as this namespace's.
    pub fn label_selector(&self) -> String {
        format!(
            "{MANAGED_BY_KEY}={MANAGED_BY_VALUE},{CLUSTER_KEY}={},{NAMESPACE_KEY}={}",
            label_value(&self.cluster),
            label_value(&self.namespace)
        )
    }

    /// Fargate profile name, as eksctl named it in the original pattern.
    pub fn fargate_profile_name(&self) -> String {
        format!("fp-{}", self.namespace)
    }

    /// EFS creation token: deterministic, so a retried create finds the same file system; at most
    /// 64 characters, readable, and unique per cluster and namespace thanks to the hash.
    pub fn creation_token(&self) -> String {
        let token = format!("efw-{}-{}-{}", self.short_hash(), self.cluster, self.namespace);
        token.chars().take(64).collect()
    }

    /// What the names of the namespace's CloudWatch alarms start with: the stack's IAM policies
    /// allow alarm changes only under [`ALARM_NAME_PREFIX`], and the hash keeps one namespace's
    /// prefix from being the start of another's.
    pub fn alarm_prefix(&self) -> String {
        format!(
            "{ALARM_NAME_PREFIX}{}-{}-{}-",
            self.short_hash(),
            self.cluster,
            self.namespace
        )
    }

    pub fn security_group_name(&self) -> String {
        format!("efw-{}-{}-{}-efs", self.short_hash(), self.cluster, self.namespace)
    }

    /// A short stable name used where a readable name could exceed a limit.
    pub fn short_hash(&self) -> String {
        let digest = Sha256::digest(format!("{}/{}", self.cluster, self.namespace));
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }
}

/// A valid Kubernetes label value (at most 63 of `[A-Za-z0-9._-]`, alphanumeric at both ends) that
/// stands for `value`: itself when already valid, else with other characters turned into `.`
/// (RFC 3339 instants stay readable), and cut to 50 characters plus a hash of the original when
/// too long (cluster names reach 100 characters, run ids 80).
pub fn label_value(value: &str) -> String {
    let mut text: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '.'
            }
        })
        .collect();
    if text.len() > 63 {
        let digest = Sha256::digest(value);
        let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        text = format!("{}-{hash}", &text[..50]);
    }
    text.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_token_is_deterministic_bounded_and_unique() {
        let a = Owner::new("demo", "poc-efs-eks-fargate");
        assert_eq!(a.creation_token(), a.creation_token());
        assert!(a.creation_token().starts_with("efw-"));
        let long = Owner::new("c".repeat(100), "n".repeat(63));
        assert_eq!(long.creation_token().len(), 64);
        let other = Owner::new("c".repeat(100), format!("{}x", "n".repeat(62)));
        assert_ne!(long.creation_token(), other.creation_token());
    }

    #[test]
    fn a_resource_gets_exactly_the_tag_keys_iam_allows() {
        let tags = Owner::new("demo", "ns").tags("x", "run-1", "stack");
        let keys: Vec<&str> = tags.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, TAG_KEYS);
    }

    #[test]
    fn ownership_needs_every_tag() {
        let owner = Owner::new("demo", "ns");
        let tags = owner.tags("x", "run-1", "stack");
        assert!(owner.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        assert!(!Owner::new("demo", "other").owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        assert!(!owner.owns([(MANAGED_BY_KEY, MANAGED_BY_VALUE), (CLUSTER_KEY, "demo")]));
        assert!(!owner.owns([]));
    }

    #[test]
    fn label_values_are_valid_and_distinct() {
        assert_eq!(label_value("demo"), "demo");
        assert_eq!(label_value("2030-01-01T00:00:00Z"), "2030-01-01T00.00.00Z");
        let long = label_value(&"c".repeat(100));
        assert_eq!(long.len(), 63);
        assert_ne!(long, label_value(&format!("{}d", "c".repeat(99))));
        assert_eq!(label_value("-x_"), "x");
    }

    #[test]
    fn labels_mark_the_namespace_the_cluster_and_the_deployment() {
        let owner = Owner::new("c".repeat(100), "ns");
        let labels = owner.labels("run-1", "stack");
        let selector = owner.label_selector();
        assert!(selector.contains(&format!("{CLUSTER_KEY}={}", labels[CLUSTER_KEY])));
        assert!(selector.contains(&format!("{NAMESPACE_KEY}={}", labels[NAMESPACE_KEY])));
        assert_eq!(labels[DEPLOYMENT_KEY], "stack");
        assert_eq!(labels[RUN_ID_KEY], "run-1");
    }
}
