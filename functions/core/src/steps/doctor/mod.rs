//! The doctor: everything that would make a run fail half-way, checked before anything is created,
//! and explained. `prepare` runs it on every run and fails with the first failed check's named
//! error; the `doctor` action of the `prepare` function and a dry run return the whole report, every
//! check run rather than stopping at the first failure. The doctor only reads.

mod checks;
pub mod policy;

use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::input::{ProvisionRequest, Trigger, parse_execution_input};
use crate::ledger::{ClusterView, Ledger};
use crate::ownership::{OPT_IN_TAG_KEY, Owner};
use crate::poll::Poll;
use crate::resources::access_entry::{self, AccessDecision};
use crate::resources::{collector, fargate_profile, security_group};
use crate::run::Network;
use crate::settings::{AccessEntryMode, OptInScope, Settings};
use crate::steps::efs::decide;
use crate::steps::network;
use aws_sdk_eks::types::{Cluster, ClusterStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The check names, in the order the doctor runs them (and `prepare` reports the first failure).
pub mod names {
    pub const CLUSTER_STATUS: &str = "clusterStatus";
    pub const OPT_IN_TAG: &str = "optInTag";
    pub const PRIVATE_SUBNETS: &str = "privateSubnets";
    pub const VPC_DNS: &str = "vpcDns";
    pub const SUBNET_ADDRESSES: &str = "subnetAddresses";
    pub const AUTHENTICATION_MODE: &str = "authenticationMode";
    pub const ENDPOINT_ACCESS: &str = "endpointAccess";
    pub const POD_EXECUTION_ROLE_TRUST: &str = "podExecutionRoleTrust";
    pub const POD_EXECUTION_ROLE_POLICY: &str = "podExecutionRolePolicy";
    pub const FILE_SYSTEM: &str = "fileSystem";
    pub const SECURITY_GROUP: &str = "securityGroup";
    pub const FARGATE_PROFILE: &str = "fargateProfile";
    pub const ACCESS_ENTRY: &str = "accessEntry";
    pub const CONTAINER_INSIGHTS: &str = "containerInsights";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CheckStatus {
    Ok,
    Failed,
    /// Not applicable here (a setting turns it off), or it needs what a failed check would find.
    Skipped,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    /// What was found, or for a failure the error's message: what is wrong and how to fix it.
    pub explanation: String,
    /// The failure's error name (what `prepare` fails with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorReport {
    pub cluster_name: String,
    pub namespace: String,
    /// No check failed.
    pub healthy: bool,
    pub checks: Vec<Check>,
}

impl DoctorReport {
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == CheckStatus::Failed)
    }
}

/// The report, what the checks learned on the way (for `prepare` and the plan), and the errors of
/// the failed checks.
pub struct Examination {
    pub report: DoctorReport,
    pub network: Option<Network>,
    /// The principal the Kubernetes steps run as (when access entries are managed).
    pub principal: Option<String>,
    /// What `prepare` will do about the principal's access entry (unless that check failed).
    pub access: Option<AccessDecision>,
    /// What the ledger records for the cluster, as the checks read it.
    pub ledger: ClusterView,
    errors: Vec<WorkflowError>,
}

/// What a run goes ahead with once every check passed.
pub struct Cleared {
    pub network: Network,
    pub access: AccessDecision,
}

impl Examination {
    /// What the checks found when every one passed, else the first failed check's error.
    pub fn into_cleared(self) -> Result<Cleared> {
        for check in self.report.failed() {
            tracing::warn!(check = %check.name, error = ?check.error, "{}", check.explanation);
        }
        if let Some(first) = self.errors.into_iter().next() {
            return Err(first);
        }
        let network = self.network.ok_or_else(|| WorkflowError::NoPrivateSubnets {
            cluster: self.report.cluster_name,
            vpc_id: "(not found)".into(),
        })?;
        Ok(Cleared {
            network,
            access: self.access.unwrap_or(AccessDecision::Skip),
        })
    }
}

/// The checks run so far.
struct Checks {
    checks: Vec<Check>,
    errors: Vec<WorkflowError>,
}

impl Checks {
    /// Records a check's outcome and passes its finding on. Retryable errors (throttling, AWS
    /// unavailable) are not a finding about the cluster: they end the examination, to be retried.
    fn record<T>(&mut self, name: &str, result: Result<(T, String)>) -> Result<Option<T>> {
        match result {
            Ok((value, explanation)) => {
                self.push(name, CheckStatus::Ok, explanation, None);
                Ok(Some(value))
            }
            Err(e) if e.is_retryable() => Err(e),
            Err(e) => {
                self.push(
                    name,
                    CheckStatus::Failed,
                    e.to_string(),
                    Some(e.error_type().to_string()),
                );
                self.errors.push(e);
                Ok(None)
            }
        }
    }

    fn check(&mut self, name: &str, result: Result<String>) -> Result<()> {
        self.record(name, result.map(|explanation| ((), explanation)))
            .map(|_| ())
    }

    fn skip(&mut self, name: &str, why: impl Into<String>) {
        self.push(name, CheckStatus::Skipped, why.into(), None);
    }

    fn push(&mut self, name: &str, status: CheckStatus, explanation: String, error: Option<String>) {
        self.checks.push(Check {
            name: name.to_string(),
            status,
            explanation,
            error,
        });
    }
}

/// Runs every check for `request` on `cluster` (as DescribeCluster answered).
pub async fn examine(
    clients: &AwsClients,
    settings: &Settings,
    request: &ProvisionRequest,
    cluster: &Cluster,
) -> Result<Examination> {
    use names::*;
    let owner = Owner::new(&request.cluster_name, &request.namespace);
    let ledger_client = Ledger::of(&clients.dynamodb, settings)?;
    let ledger = ledger_client.cluster(&request.cluster_name).await?;
    let view = ledger.namespace(&request.namespace);
    let mut checks = Checks {
        checks: Vec::new(),
        errors: Vec::new(),
    };
    checks.check(CLUSTER_STATUS, cluster_status(cluster))?;
    match settings.opt_in_scope {
        // An EventBridge event without the tag never gets here (it is a no-op).
        OptInScope::EventBridgeOnly => checks.skip(OPT_IN_TAG, "OPT_IN_SCOPE is eventbridge-only"),
        OptInScope::EveryRun => checks.check(OPT_IN_TAG, opted_in(cluster))?,
    }
    let found = network::of_cluster(&clients.ec2, cluster).await.map(|network| {
        let explanation = format!(
            "{} private subnets in {}, mount targets in {}",
            network.private_subnets.len(),
            network.vpc_id,
            network
                .mount_target_subnets
                .iter()
                .map(|s| format!("{} ({})", s.subnet_id, s.availability_zone))
                .collect::<Vec<_>>()
                .join(", ")
        );
        (network, explanation)
    });
    let network = checks.record(PRIVATE_SUBNETS, found)?;
    match &network {
        Some(network) => {
            checks.check(VPC_DNS, checks::vpc_dns(clients, network).await)?;
            checks.check(
                SUBNET_ADDRESSES,
                checks::subnet_addresses(clients, &owner, network).await,
            )?;
        }
        None => {
            for name in [VPC_DNS, SUBNET_ADDRESSES] {
                checks.skip(name, "needs the cluster's private subnets");
            }
        }
    }
    let principal = if settings.access_entry_mode == AccessEntryMode::Manage {
        Some(access_entry::cluster_principal(&clients.sts, settings.cluster_access_role_arn.as_deref()).await?)
    } else {
        None
    };
    let mode_ok = match &principal {
        Some(principal) => {
            let mode = authentication_mode(cluster, principal);
            let ok = mode.is_ok();
            checks.check(AUTHENTICATION_MODE, mode)?;
            ok
        }
        None => {
            checks.skip(AUTHENTICATION_MODE, "access entries are not managed by this deployment");
            false
        }
    };
    checks.check(ENDPOINT_ACCESS, checks::endpoint_access(cluster))?;
    let role_arn = &request.pod_execution_role_arn;
    match checks::pod_execution_role(clients, role_arn).await {
        Ok(Some(findings)) => {
            checks.check(POD_EXECUTION_ROLE_TRUST, findings.trust)?;
            checks.check(POD_EXECUTION_ROLE_POLICY, findings.policy)?;
        }
        Ok(None) => {
            checks.check(
                POD_EXECUTION_ROLE_TRUST,
                Err(WorkflowError::PodExecutionRoleInvalid {
                    role_arn: role_arn.clone(),
                    reason: "it does not exist in this account".into(),
                }),
            )?;
            checks.skip(POD_EXECUTION_ROLE_POLICY, "the role does not exist");
        }
        Err(e) => {
            // Unreadable (the function's role may read only the deployment's pod execution role).
            checks.check(POD_EXECUTION_ROLE_TRUST, Err(e))?;
            checks.skip(POD_EXECUTION_ROLE_POLICY, "the role could not be read");
        }
    }
    let file_system = decide::file_system_plan(clients, &ledger_client, &view, &owner, request)
        .await
        .map(|plan| describe_file_system(&plan, &owner));
    checks.check(FILE_SYSTEM, file_system)?;
    match &network {
        Some(network) => {
            let group = decide::security_group_plan(&clients.ec2, &view, &owner, &network.vpc_id)
                .await
                .map(|decision| match decision {
                    security_group::Decision::Create => {
                        format!(
                            "no security group {} in {}",
                            owner.security_group_name(),
                            network.vpc_id
                        )
                    }
                    security_group::Decision::Reuse(id) => {
                        format!(
                            "security group {} ({id}) is the workflow's",
                            owner.security_group_name()
                        )
                    }
                });
            checks.check(SECURITY_GROUP, group)?;
        }
        None => checks.skip(SECURITY_GROUP, "needs the cluster's VPC"),
    }
    let profile = match fargate_profile::find(&clients.eks, &view, &owner).await {
        Ok(found) => {
            let subnets = network.as_ref().map(|n| n.private_subnets.as_slice());
            fargate_profile::decide(&found, request, subnets).map(|decision| {
                let name = owner.fargate_profile_name();
                match decision {
                    fargate_profile::Decision::Create => format!("no Fargate profile {name}"),
                    fargate_profile::Decision::Use { adopted: false } => {
                        format!("Fargate profile {name} is the workflow's")
                    }
                    fargate_profile::Decision::Use { adopted: true } => format!("Fargate profile {name} is adopted"),
                }
            })
        }
        Err(e) => Err(e),
    };
    checks.check(FARGATE_PROFILE, profile)?;
    let access = match &principal {
        Some(principal) if mode_ok => {
            let found = access_entry::find(&clients.eks, &ledger, &request.cluster_name, principal).await?;
            let decided =
                access_entry::decide(cluster, &found, principal, &settings.access_entry_mode).map(|decision| {
                    let explanation = format!("{principal}: {}", describe(&decision));
                    (decision, explanation)
                });
            checks.record(ACCESS_ENTRY, decided)?
        }
        Some(_) => {
            checks.skip(ACCESS_ENTRY, "needs an authentication mode with access entries");
            None
        }
        None => {
            checks.skip(ACCESS_ENTRY, "access entries are not managed by this deployment");
            Some(AccessDecision::Skip)
        }
    };
    if request.monitoring.container_insights {
        checks.check(
            CONTAINER_INSIGHTS,
            collector::role::check_prerequisites(&clients.iam, &ledger_client, cluster).await,
        )?;
    } else {
        checks.skip(CONTAINER_INSIGHTS, "monitoring.containerInsights is off");
    }
    let report = DoctorReport {
        cluster_name: request.cluster_name.clone(),
        namespace: request.namespace.clone(),
        healthy: checks.errors.is_empty(),
        checks: checks.checks,
    };
    Ok(Examination {
        report,
        network,
        principal,
        access,
        ledger,
        errors: checks.errors,
    })
}

/// What the run will do with the file system, as the doctor says it.
fn describe_file_system(plan: &decide::FileSystemPlan, owner: &Owner) -> String {
    match &plan.file_system {
        crate::resources::file_system::Decision::Create => {
            format!("no file system with creation token {}", owner.creation_token())
        }
        crate::resources::file_system::Decision::Reuse(fs) => format!(
            "file system {} with creation token {} is the workflow's, with settings this run can use",
            fs.file_system_id(),
            owner.creation_token()
        ),
    }
}

fn describe(decision: &AccessDecision) -> &'static str {
    match decision {
        AccessDecision::Skip => "not managed",
        AccessDecision::Create => "no access entry yet; the run creates the workflow's own",
        AccessDecision::Ours { add_group: false } => "the workflow's own access entry (its ledger records it)",
        AccessDecision::Ours { add_group: true } => "the workflow's own access entry, without its group yet",
        AccessDecision::Existing => {
            "an access entry the workflow did not create (its ledger does not record it), with enough rights; used unchanged"
        }
    }
}

fn cluster_status(cluster: &Cluster) -> Result<String> {
    let status = cluster.status().cloned().unwrap_or(ClusterStatus::Creating);
    match status {
        ClusterStatus::Active | ClusterStatus::Updating => Ok(format!("cluster is {}", status.as_str())),
        other => Err(WorkflowError::ClusterNotActive {
            cluster: cluster.name().unwrap_or_default().to_string(),
            status: other.as_str().to_string(),
        }),
    }
}

/// The cluster itself must carry the opt-in tag: checked before anything is created, for every
/// trigger, and again before a bootstrap grant.
pub fn opted_in(cluster: &Cluster) -> Result<String> {
    let tag = cluster.tags().and_then(|tags| tags.get(OPT_IN_TAG_KEY));
    if tag.map(String::as_str) == Some("true") {
        Ok(format!("the cluster carries {OPT_IN_TAG_KEY}=true"))
    } else {
        Err(WorkflowError::ClusterNotOptedIn {
            cluster: cluster.name().unwrap_or_default().to_string(),
            tag_key: OPT_IN_TAG_KEY.to_string(),
        })
    }
}

fn authentication_mode(cluster: &Cluster, principal: &str) -> Result<String> {
    access_entry::check_authentication_mode(cluster, principal)?;
    let mode = cluster
        .access_config()
        .and_then(|c| c.authentication_mode())
        .map_or("not reported", |m| m.as_str());
    Ok(format!("authentication mode {mode} allows access entries"))
}

/// The `doctor` action of the `prepare` function: `{action: "doctor", input}`, `input` being an
/// execution input (the namespace and pod execution role default as for a run).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DoctorEvent {
    pub action: DoctorAction,
    pub input: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DoctorAction {
    Doctor,
}

/// Examines the cluster the input names; the report, never an error for a failed check.
pub async fn handle(clients: &AwsClients, settings: &Settings, event: DoctorEvent) -> Result<Poll<DoctorReport>> {
    let request = match parse_execution_input(&event.input, settings)? {
        Trigger::Provision(request) | Trigger::Plan(request) => *request,
        Trigger::Skip { reason } => return Err(WorkflowError::invalid("input", reason)),
    };
    let cluster = aws::eks::cluster(&clients.eks, &request.cluster_name).await?;
    let report = examine(clients, settings, &request, &cluster).await?.report;
    let failed: Vec<&str> = report.failed().map(|c| c.name.as_str()).collect();
    let detail = if failed.is_empty() {
        format!("all {} checks passed", report.checks.len())
    } else {
        format!("failed: {}", failed.join(", "))
    };
    Ok(Poll::ready(0, detail, report))
}
