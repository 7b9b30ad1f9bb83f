//! The fake Kubernetes API server authorizes with the gateway's emulated access entries, as EKS
//! does with its own: the tests' own credentials act as the workflow's Kubernetes identity
//! (`ClusterAccessRole`, which the Kubernetes steps assume), and a second identity, the cluster's operator, has cluster-admin (the
//! demo and the tests use it to play "someone else" on the cluster).

use crate::AccessEntries;
use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use fake_kube_apiserver::{AccessEntrySource, AccessPolicy, ResolvedAccess, Scope};

/// The operator's access key: it signs the tests' own Kubernetes requests.
pub const OPERATOR_ACCESS_KEY_ID: &str = "operator";
pub const OPERATOR_SECRET_ACCESS_KEY: &str = "operator-secret";
/// The operator's role: the cluster's creator, with an access entry for AmazonEKSClusterAdminPolicy.
pub const OPERATOR_ROLE: &str = "arn:aws:iam::123456789012:role/cluster-operator";

/// What STS would answer for each local access key: an assumed-role session of its role.
pub fn caller_arns(cluster_access_role: &str) -> Vec<(String, String)> {
    let session = |role_arn: &str, session: &str| {
        let role = role_arn.rsplit('/').next().unwrap_or_default();
        format!(
            "arn:aws:sts::{}:assumed-role/{role}/{session}",
            workflow_tests::ACCOUNT_ID
        )
    };
    vec![
        (
            workflow_tests::ACCESS_KEY_ID.into(),
            session(cluster_access_role, "workflow"),
        ),
        (OPERATOR_ACCESS_KEY_ID.into(), session(OPERATOR_ROLE, "operator")),
    ]
}

/// The gateway's access entries, as the fake API server asks for them.
pub struct GatewayAccess(pub AccessEntries);

impl AccessEntrySource for GatewayAccess {
    fn resolve(&self, cluster_name: &str, caller_arn: &str) -> Option<ResolvedAccess> {
        let access = self.0.resolve(cluster_name, caller_arn)?;
        Some(ResolvedAccess {
            username: access.username,
            kubernetes_groups: access.kubernetes_groups,
            policies: access
                .policies
                .into_iter()
                .map(|(name, scope)| {
                    let scope = match scope {
                        crate::AccessScope::Cluster => Scope::Cluster,
                        crate::AccessScope::Namespaces(namespaces) => Scope::Namespaces(namespaces),
                    };
                    AccessPolicy::new(name, scope)
                })
                .collect(),
        })
    }
}

/// The cluster's operator gets cluster-admin through an access entry, as a cluster's creator would.
pub async fn grant_operator_admin(eks: &aws_sdk_eks::Client, cluster: &str) -> Result<(), String> {
    eks.create_access_entry()
        .cluster_name(cluster)
        .principal_arn(OPERATOR_ROLE)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    eks.associate_access_policy()
        .cluster_name(cluster)
        .principal_arn(OPERATOR_ROLE)
        .policy_arn("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")
        .access_scope(AccessScope::builder().r#type(AccessScopeType::Cluster).build())
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(())
}
