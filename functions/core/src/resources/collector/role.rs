//! The collector's IAM role, one per cluster namespace: assumable only by the namespace's
//! collector service account through the cluster's OIDC provider (IAM roles for service accounts:
//! Fargate pods get no other AWS identity), allowed only to write the deployment's Container
//! Insights log group, and created under the template's permissions boundary, without which IAM
//! does not let the workflow create it at all. Recorded in the namespace's part of the ledger; a
//! role of its name the ledger does not record is someone else's (`CollectorRoleConflict`). IAM
//! names are global, so the name's hash covers the deployment and its region too.

use std::collections::BTreeMap;

use super::SERVICE_ACCOUNT;
use crate::aws::{self, iam::NewRole};
use crate::error::{Result, WorkflowError};
use crate::ledger::{Ledger, NamespaceView};
use crate::ownership::Owner;
use crate::resources::{CleanupScope, Kind, NOT_RECORDED, Recorder, Removal, records};
use crate::run::Run;
use crate::settings::InsightsSettings;
use aws_sdk_eks::types::Cluster;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The path of every role the workflow creates: the template's IAM statements are scoped to it.
pub const PATH: &str = "/efs-fargate-workflow/";
/// The one inline policy of a collector role.
const POLICY_NAME: &str = "container-insights";

/// `efs-fargate-workflow-insights-<hash>`: 42 characters, within IAM's 64. The hash covers the
/// deployment, its region, the cluster and the namespace: IAM is global, so two deployments (or
/// one in two regions) never share a role.
pub fn role_name(deployment: &str, region: &str, owner: &Owner) -> String {
    let digest = Sha256::digest(format!("{deployment}/{region}/{}/{}", owner.cluster, owner.namespace));
    let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("efs-fargate-workflow-insights-{hash}")
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

    pub fn role_arn(&self, deployment: &str, owner: &Owner) -> String {
        format!(
            "arn:{}:iam::{}:role{PATH}{}",
            self.partition,
            self.account,
            role_name(deployment, &self.region, owner)
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

/// The doctor's check: the cluster has an OIDC provider, and no role of the collector's name that
/// the ledger does not record is in the way. Says what the run will do.
pub async fn check_prerequisites(
    iam: &aws_sdk_iam::Client,
    cluster: &Cluster,
    deployment: &str,
    view: &NamespaceView,
    owner: &Owner,
) -> Result<String> {
    let identity = identity_of(cluster, &owner.cluster)?;
    require_oidc_provider(iam, &identity, &owner.cluster).await?;
    let name = role_name(deployment, &identity.region, owner);
    match aws::iam::role_named(iam, &name).await? {
        None => Ok(format!(
            "OIDC provider {} found; the run creates collector role {name}",
            identity.provider_arn()
        )),
        Some(role) => check_ours(&role, view).map(|()| format!("OIDC provider found; collector role {name} is ours")),
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

/// A role of the collector's name is usable only if the ledger records it, at our path.
fn check_ours(role: &aws_sdk_iam::types::Role, view: &NamespaceView) -> Result<()> {
    let recorded = view
        .find(Kind::CollectorRole, role.role_name())
        .is_some_and(|r| records(r, role.arn(), None));
    let reason = if !recorded {
        format!("it is {NOT_RECORDED}")
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

/// Finds or creates the namespace's collector role (recorded) and converges its trust and
/// permissions (a cluster recreated under the same name has a new issuer). Returns its ARN.
pub async fn ensure_role(
    iam: &aws_sdk_iam::Client,
    recorder: Recorder<'_>,
    view: &NamespaceView,
    run: &Run,
    settings: &InsightsSettings,
    described: &Cluster,
) -> Result<String> {
    let owner = recorder.owner;
    let cluster = &run.request.cluster_name;
    let identity = &identity_of(described, cluster)?;
    require_oidc_provider(iam, identity, cluster).await?;
    let name = role_name(recorder.ledger.deployment(), &identity.region, owner);
    let place = recorder.namespace();
    let trust = trust_policy(identity, &run.request.namespace);
    let role = match aws::iam::role_named(iam, &name).await? {
        Some(role) => role,
        None => {
            recorder.intend(place, Kind::CollectorRole, &name).await?;
            let tags = run.tags(&name);
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
    if recorder.ledger.get(place, Kind::CollectorRole, &name).await?.is_none() {
        check_ours(&role, view)?;
    }
    recorder
        .settle(place, Kind::CollectorRole, &name, role.arn(), BTreeMap::new())
        .await?;
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

/// Deletes the namespace's recorded collector role (in a rollback: its run's); a role under the
/// collector's name (`name`) that the ledger does not record is reported and never touched.
pub async fn remove_role(
    iam: &aws_sdk_iam::Client,
    ledger: &Ledger,
    owner: &Owner,
    view: &NamespaceView,
    scope: &CleanupScope,
    name: &str,
) -> Result<Removal> {
    let place = owner.place();
    let mut removal = Removal::done();
    if view.find(Kind::CollectorRole, name).is_none()
        && let Some(role) = aws::iam::role_named(iam, name).await?
    {
        removal = removal.kept(format!("IAM role {}", role.role_name()), NOT_RECORDED);
    }
    for record in view.of_kind(Kind::CollectorRole) {
        let what = format!("IAM role {}", record.key);
        if let Some(why) = scope.keeps(record) {
            removal = removal.kept(what, why);
            continue;
        }
        let role = aws::iam::role_named(iam, &record.key).await?;
        if let Some(role) = role.filter(|role| records(record, role.arn(), None)) {
            aws::iam::delete_role(iam, role.role_name()).await?;
            removal = removal.removed(what);
        }
        ledger.forget(place, Kind::CollectorRole, &record.key).await?;
    }
    Ok(removal)
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
    fn names_fit_iam_and_keep_deployments_and_regions_apart() {
        let owner = Owner::new("c".repeat(100), "n".repeat(63));
        let name = role_name("stack", "eu-west-1", &owner);
        assert!(name.len() <= 64);
        assert_eq!(
            name,
            role_name("stack", "eu-west-1", &Owner::new("c".repeat(100), "n".repeat(63)))
        );
        assert_ne!(
            name,
            role_name("stack", "eu-west-1", &Owner::new("c".repeat(100), "m".repeat(63)))
        );
        assert_ne!(name, role_name("other-stack", "eu-west-1", &owner));
        assert_ne!(name, role_name("stack", "us-east-1", &owner));
        assert_eq!(
            identity().role_arn("stack", &owner),
            format!("arn:aws:iam::123456789012:role/efs-fargate-workflow/{name}")
        );
    }
}
