//! The collector's IAM role, one per cluster namespace: assumable only by the namespace's
//! collector service account through the cluster's OIDC provider (IAM roles for service accounts:
//! Fargate pods get no other AWS identity), allowed only to write the deployment's Container
//! Insights log group, and created under the template's permissions boundary, without which IAM
//! does not let the workflow create it at all.

use super::SERVICE_ACCOUNT;
use crate::aws::{self, iam::NewRole};
use crate::error::{Result, WorkflowError};
use crate::ownership::{Owner, Scope, kept};
use crate::run::Run;
use crate::settings::InsightsSettings;
use aws_sdk_eks::types::Cluster;
use serde_json::{Value, json};

/// The path of every role the workflow creates: the template's IAM statements are scoped to it.
pub const PATH: &str = "/efs-fargate-workflow/";
/// The one inline policy of a collector role.
const POLICY_NAME: &str = "container-insights";

/// `efs-fargate-workflow-insights-<hash of cluster and namespace>`: 42 characters, within IAM's 64.
pub fn role_name(owner: &Owner) -> String {
    format!("efs-fargate-workflow-insights-{}", owner.short_hash())
}

/// What the collector's role needs from the cluster, read from DescribeCluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterIdentity {
    pub partition: String,
    pub region: String,
    pub account: String,
    /// The issuer without `https://`: `oidc.eks.<region>.amazonaws.com/id/<ID>`.
    pub issuer: String,
}

impl ClusterIdentity {
    /// `None` when the cluster reports no ARN or no OIDC issuer (which EKS always does).
    pub fn of(cluster: &Cluster) -> Option<Self> {
        let arn: Vec<&str> = cluster.arn()?.splitn(6, ':').collect();
        let issuer = cluster.identity()?.oidc()?.issuer()?;
        let [_, partition, _, region, account, _] = arn[..] else {
            return None;
        };
        Some(Self {
            partition: partition.into(),
            region: region.into(),
            account: account.into(),
            issuer: issuer.trim_start_matches("https://").to_string(),
        })
    }

    pub fn provider_arn(&self) -> String {
        format!(
            "arn:{}:iam::{}:oidc-provider/{}",
            self.partition, self.account, self.issuer
        )
    }

    pub fn role_arn(&self, owner: &Owner) -> String {
        format!(
            "arn:{}:iam::{}:role{PATH}{}",
            self.partition,
            self.account,
            role_name(owner)
        )
    }

    fn log_group_arn(&self, log_group: &str) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:{log_group}",
            self.partition, self.region, self.account
        )
    }
}

/// Only the namespace's collector service account, and only for STS.
pub fn trust_policy(identity: &ClusterIdentity, namespace: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": identity.provider_arn()},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                format!("{}:sub", identity.issuer): format!("system:serviceaccount:{namespace}:{SERVICE_ACCOUNT}"),
                format!("{}:aud", identity.issuer): "sts.amazonaws.com",
            }},
        }],
    })
}

/// The collector writes performance events (embedded metric format) to its streams in the
/// deployment's group; CloudWatch turns them into metrics. It creates no group.
pub fn permissions(identity: &ClusterIdentity, log_group: &str) -> Value {
    let group = identity.log_group_arn(log_group);
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "WritePerformanceEvents",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [group.clone(), format!("{group}:log-stream:*")],
        }],
    })
}

/// The doctor's check: the cluster has an OIDC provider, and no role of ours' name that is not ours
/// is in the way. Says what the run will do.
pub async fn check_prerequisites(iam: &aws_sdk_iam::Client, cluster: &Cluster, owner: &Owner) -> Result<String> {
    let identity = identity_of(cluster, &owner.cluster)?;
    require_oidc_provider(iam, &identity, &owner.cluster).await?;
    let name = role_name(owner);
    match aws::iam::role_named(iam, &name).await? {
        None => Ok(format!(
            "OIDC provider {} found; the run creates collector role {name}",
            identity.provider_arn()
        )),
        Some(role) => check_ours(&role, owner).map(|()| format!("OIDC provider found; collector role {name} is ours")),
    }
}

fn identity_of(cluster: &Cluster, name: &str) -> Result<ClusterIdentity> {
    ClusterIdentity::of(cluster).ok_or_else(|| WorkflowError::DependencyNotReady {
        resource: format!("EKS cluster {name}"),
        message: "DescribeCluster reported no ARN or OIDC issuer yet".into(),
    })
}

async fn require_oidc_provider(iam: &aws_sdk_iam::Client, identity: &ClusterIdentity, cluster: &str) -> Result<()> {
    if aws::iam::oidc_provider_exists(iam, &identity.provider_arn()).await? {
        Ok(())
    } else {
        Err(WorkflowError::OidcProviderMissing {
            cluster: cluster.to_string(),
            issuer: format!("https://{}", identity.issuer),
        })
    }
}

/// A role of the collector's name is usable only if it is ours, at our path.
fn check_ours(role: &aws_sdk_iam::types::Role, owner: &Owner) -> Result<()> {
    let reason = if !owner.owns(aws::iam::role_tags(role)) {
        "it does not carry the workflow's tags for this cluster namespace".to_string()
    } else if role.path() != PATH {
        format!("its path is {} instead of {PATH}", role.path())
    } else {
        return Ok(());
    };
    Err(WorkflowError::CollectorRoleConflict {
        role_name: role.role_name().to_string(),
        reason,
    })
}

/// Finds or creates the namespace's collector role and converges its trust and permissions (a
/// cluster recreated under the same name has a new issuer). Returns its ARN.
pub async fn ensure_role(
    iam: &aws_sdk_iam::Client,
    run: &Run,
    settings: &InsightsSettings,
    described: &Cluster,
) -> Result<String> {
    let owner = run.owner();
    let cluster = &run.request.cluster_name;
    let identity = &identity_of(described, cluster)?;
    require_oidc_provider(iam, identity, cluster).await?;
    let name = role_name(&owner);
    let trust = trust_policy(identity, &run.request.namespace);
    let role = match aws::iam::role_named(iam, &name).await? {
        Some(role) => role,
        None => {
            let tags = owner.tags(&name, &run.run_id, run.expires_at.as_deref());
            let new = NewRole {
                name: &name,
                path: PATH,
                description: &format!("Container Insights collector of {cluster}/{}", run.request.namespace),
                trust_policy: &trust.to_string(),
                permissions_boundary: settings.boundary()?,
                tags: &tags,
            };
            match aws::iam::create_role(iam, &new).await? {
                Some(role) => role,
                // Created by a concurrent call: read it like any existing role.
                None => aws::iam::role_named(iam, &name)
                    .await?
                    .ok_or_else(|| WorkflowError::DependencyNotReady {
                        resource: format!("IAM role {name}"),
                        message: "created by another call and not yet readable".into(),
                    })?,
            }
        }
    };
    check_ours(&role, &owner)?;
    let current_trust = role
        .assume_role_policy_document()
        .map(aws::iam::decoded)
        .and_then(|doc| serde_json::from_str::<Value>(&doc).ok());
    if current_trust.as_ref() != Some(&trust) {
        aws::iam::update_trust_policy(iam, &name, &trust.to_string()).await?;
    }
    let wanted = permissions(identity, &settings.log_group);
    let current = aws::iam::inline_policy(iam, &name, POLICY_NAME)
        .await?
        .and_then(|doc| serde_json::from_str::<Value>(&doc).ok());
    if current.as_ref() != Some(&wanted) {
        aws::iam::put_inline_policy(iam, &name, POLICY_NAME, &wanted.to_string()).await?;
    }
    Ok(role.arn().to_string())
}

/// Deletes the namespace's collector role when it is ours (in a rollback: that run's). `None` when
/// there is none; else what was removed or why it was kept.
pub async fn remove_role(
    iam: &aws_sdk_iam::Client,
    owner: &Owner,
    scope: &Scope,
) -> Result<Option<std::result::Result<String, String>>> {
    let name = role_name(owner);
    let Some(role) = aws::iam::role_named(iam, &name).await? else {
        return Ok(None);
    };
    let what = format!("IAM role {name}");
    if let Some(why) = scope.why_kept(owner, aws::iam::role_tags(&role)) {
        return Ok(Some(Err(kept(what, why))));
    }
    aws::iam::delete_role(iam, &name).await?;
    Ok(Some(Ok(what)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> ClusterIdentity {
        ClusterIdentity {
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            issuer: "oidc.eks.eu-west-1.amazonaws.com/id/ABC".into(),
        }
    }

    #[test]
    fn the_trust_names_one_service_account_of_one_cluster() {
        let trust = trust_policy(&identity(), "team-a");
        let statement = &trust["Statement"][0];
        assert_eq!(
            statement["Principal"]["Federated"],
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
        );
        assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
        let conditions = &statement["Condition"]["StringEquals"];
        assert_eq!(
            conditions["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"],
            format!("system:serviceaccount:team-a:{SERVICE_ACCOUNT}")
        );
        assert_eq!(
            conditions["oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud"],
            "sts.amazonaws.com"
        );
    }

    #[test]
    fn the_permissions_reach_only_the_deployments_group() {
        let policy = permissions(&identity(), "/efs-fargate-workflow/container-insights");
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        let resources = statements[0]["Resource"].as_array().unwrap();
        assert_eq!(
            resources[0],
            "arn:aws:logs:eu-west-1:123456789012:log-group:/efs-fargate-workflow/container-insights"
        );
        assert!(
            resources
                .iter()
                .all(|r| r.as_str().unwrap().contains(":log-group:/efs-fargate-workflow/"))
        );
        assert!(!policy.to_string().contains("CreateLogGroup"));
    }

    #[test]
    fn names_fit_iam() {
        let owner = Owner::new("c".repeat(100), "n".repeat(63));
        assert!(role_name(&owner).len() <= 64);
        assert_eq!(
            role_name(&owner),
            role_name(&Owner::new("c".repeat(100), "n".repeat(63)))
        );
        assert_ne!(
            role_name(&owner),
            role_name(&Owner::new("c".repeat(100), "m".repeat(63)))
        );
        assert_eq!(
            identity().role_arn(&owner),
            format!(
                "arn:aws:iam::123456789012:role/efs-fargate-workflow/{}",
                role_name(&owner)
            )
        );
    }
}
