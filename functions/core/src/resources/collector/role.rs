//! The collector's IAM role, one per cluster: assumable only by the collector's service account
//! in the collector's namespace, through the cluster's OIDC provider (IAM roles for service
//! accounts: Fargate pods get no other AWS identity), allowed only to write the deployment's
//! Container Insights log group, and created under the template's permissions boundary, without
//! which IAM does not let the workflow create it at all. Recorded in the cluster's part of the
//! ledger; a role of its name the ledger does not record is someone else's
//! (`CollectorRoleConflict`). IAM names are global, so the name's hash covers the deployment and
//! its region too. Ledgers of earlier versions record a role per namespace, in the namespace's
//! part: [`remove_recorded`] takes those too.

use std::collections::BTreeMap;

use super::{NAMESPACE, SERVICE_ACCOUNT};
use crate::aws::{self, iam::NewRole};
use crate::error::{Result, WorkflowError};
use crate::ledger::{Ledger, Place, Record};
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
/// deployment, its region and the cluster: IAM is global, so two deployments (or one in two
/// regions) never share a role.
pub fn role_name(deployment: &str, region: &str, cluster: &str) -> String {
    let digest = Sha256::digest(format!("{deployment}/{region}/{cluster}"));
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

    pub fn role_arn(&self, deployment: &str, cluster: &str) -> String {
        format!(
            "arn:{}:iam::{}:role{PATH}{}",
            self.partition,
            self.account,
            role_name(deployment, &self.region, cluster)
        )
    }

    fn log_group_arn(&self, log_group: &str) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:{log_group}",
            self.partition, self.region, self.account
        )
    }
}

/// Only the collector's service account in the collector's namespace, and only for STS.
pub fn trust_policy(identity: &ClusterIdentity) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": identity.provider_arn()},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                format!("{}:sub", identity.issuer): format!("system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"),
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
pub async fn check_prerequisites(iam: &aws_sdk_iam::Client, ledger: &Ledger, described: &Cluster) -> Result<String> {
    let cluster = described.name().unwrap_or_default();
    let identity = identity_of(described, cluster)?;
    require_oidc_provider(iam, &identity, cluster).await?;
    let name = role_name(ledger.deployment(), &identity.region, cluster);
    match aws::iam::role_named(iam, &name).await? {
        None => Ok(format!(
            "OIDC provider {} found; the run creates the cluster's collector role {name}",
            identity.provider_arn()
        )),
        Some(role) => {
            let record = ledger.get(Place::Cluster(cluster), Kind::CollectorRole, &name).await?;
            check_ours(&role, record.as_ref())
                .map(|()| format!("OIDC provider found; the cluster's collector role {name} is ours"))
        }
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
fn check_ours(role: &aws_sdk_iam::types::Role, record: Option<&Record>) -> Result<()> {
    let recorded = record.is_some_and(|r| records(r, role.arn(), None));
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

/// Finds or creates the cluster's collector role (recorded) and converges its trust and
/// permissions (a cluster recreated under the same name has a new issuer). Returns its ARN.
pub async fn ensure_role(
    iam: &aws_sdk_iam::Client,
    recorder: Recorder<'_>,
    run: &Run,
    settings: &InsightsSettings,
    described: &Cluster,
) -> Result<String> {
    let cluster = &run.request.cluster_name;
    let identity = &identity_of(described, cluster)?;
    require_oidc_provider(iam, identity, cluster).await?;
    let name = role_name(recorder.ledger.deployment(), &identity.region, cluster);
    let place = recorder.cluster();
    let trust = trust_policy(identity);
    let role = match aws::iam::role_named(iam, &name).await? {
        Some(role) => role,
        None => {
            recorder.intend(place, Kind::CollectorRole, &name).await?;
            let tags = run.tags(&name);
            let new = NewRole {
                name: &name,
                path: PATH,
                description: &format!("Container Insights collector of cluster {cluster}"),
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
    let record = recorder.ledger.get(place, Kind::CollectorRole, &name).await?;
    check_ours(&role, record.as_ref())?;
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

/// Deletes the cluster's collector role `name` when the ledger records it as `record` (the caller
/// decided that no namespace needs it any more); a role of that name that the ledger does not
/// record is reported and never touched.
pub async fn remove_cluster_role(
    iam: &aws_sdk_iam::Client,
    ledger: &Ledger,
    name: &str,
    record: Option<&Record>,
) -> Result<Removal> {
    let Some(record) = record else {
        return Ok(match aws::iam::role_named(iam, name).await? {
            Some(role) => Removal::done().kept(format!("IAM role {}", role.role_name()), NOT_RECORDED),
            None => Removal::done(),
        });
    };
    remove_recorded(iam, ledger, [record], &CleanupScope::default()).await
}

/// Deletes the recorded collector roles (in a rollback: its run's) and forgets them: the cluster's,
/// or the per-namespace ones of earlier versions.
pub async fn remove_recorded<'r>(
    iam: &aws_sdk_iam::Client,
    ledger: &Ledger,
    recorded: impl IntoIterator<Item = &'r Record>,
    scope: &CleanupScope,
) -> Result<Removal> {
    let mut removal = Removal::done();
    for record in recorded {
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
        ledger.forget(record.place(), Kind::CollectorRole, &record.key).await?;
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
        let trust = trust_policy(&identity());
        let statement = &trust["Statement"][0];
        assert_eq!(
            statement["Principal"]["Federated"],
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
        );
        assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
        let conditions = &statement["Condition"]["StringEquals"];
        assert_eq!(
            conditions["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"],
            format!("system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}")
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
    fn names_fit_iam_and_keep_clusters_deployments_and_regions_apart() {
        let cluster = "c".repeat(100);
        let name = role_name("stack", "eu-west-1", &cluster);
        assert!(name.len() <= 64);
        assert_eq!(name, role_name("stack", "eu-west-1", &"c".repeat(100)));
        assert_ne!(name, role_name("stack", "eu-west-1", &"d".repeat(100)));
        assert_ne!(name, role_name("other-stack", "eu-west-1", &cluster));
        assert_ne!(name, role_name("stack", "us-east-1", &cluster));
        assert_eq!(
            identity().role_arn("stack", &cluster),
            format!("arn:aws:iam::123456789012:role/efs-fargate-workflow/{name}")
        );
    }
}
