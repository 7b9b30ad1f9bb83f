//! The run: what `prepare` learns once and every later step works from. It travels through the
//! state machine as JSON, so each step is re-runnable from it alone.

use crate::error::{Result, WorkflowError};
use crate::input::ProvisionRequest;
use crate::ownership::Owner;
use crate::rules;
use serde::{Deserialize, Serialize};

/// The longest a provisioning run may live: the provisioning state machine's `TimeoutSeconds`
/// (statemachine/gen reads it from here). A bootstrap grant older than this has outlived its run.
pub const MAX_RUN_SECONDS: i64 = 4 * 60 * 60;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// The provisioning execution's name.
    pub run_id: String,
    /// The namespace's generation this run holds (`crate::ledger`): one more than the run before
    /// it, so a rollback started for an older generation knows it has been superseded.
    pub generation: u64,
    /// The deployment (stack) whose ledger records what this run creates: named in every tag and
    /// label the run writes.
    pub deployment: String,
    #[serde(flatten)]
    pub request: ProvisionRequest,
    /// RFC 3339 instant after which the TTL reaper cleans up (start of the run + `ttl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    pub network: Network,
    pub access: AccessGrant,
}

impl Run {
    pub fn owner(&self) -> Owner {
        Owner::new(&self.request.cluster_name, &self.request.namespace)
    }

    pub fn tags(&self, name: &str) -> Vec<(String, String)> {
        self.owner().tags(name, &self.run_id, &self.deployment)
    }

    /// The labels of the Kubernetes objects this run creates.
    pub fn labels(&self) -> std::collections::BTreeMap<String, String> {
        self.owner().labels(&self.run_id, &self.deployment)
    }

    /// Who creates, as the ledger records it.
    pub fn creator(&self) -> crate::ledger::Creator {
        crate::ledger::Creator {
            run_id: self.run_id.clone(),
            generation: self.generation,
        }
    }

    /// Checks a run handed to a step (it may have been edited by hand for a console re-run) with
    /// the same rules as the execution input.
    pub fn validate(&self) -> Result<()> {
        let request = &self.request;
        rules::run_id("run.runId", &self.run_id)?;
        rules::deployment_id("run.deployment", &self.deployment)?;
        if self.generation == 0 {
            return Err(WorkflowError::invalid(
                "run.generation",
                "must be the generation `prepare` began in the ledger (1 or more)",
            ));
        }
        rules::cluster_name("run.clusterName", &request.cluster_name)?;
        rules::namespace("run.namespace", &request.namespace)?;
        rules::role_arn("run.podExecutionRoleArn", &request.pod_execution_role_arn)?;
        if let Some(alias) = &request.encryption.kms_key_alias {
            rules::kms_alias("run.encryption.kmsKeyAlias", alias)?;
        }
        request.file_system.validate("run.fileSystem")?;
        request.posix_user.validate("run.posixUser")?;
        if self.network.private_subnets.is_empty() || self.network.mount_target_subnets.is_empty() {
            return Err(WorkflowError::invalid(
                "run.network",
                "must list the private subnets `prepare` found",
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    pub vpc_id: String,
    /// Every private subnet of the cluster: where Fargate runs pods.
    pub private_subnets: Vec<Subnet>,
    /// One private subnet per availability zone: where EFS mount targets go.
    pub mount_target_subnets: Vec<Subnet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_security_group_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subnet {
    pub availability_zone: String,
    pub subnet_id: String,
    pub cidr_block: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessGrant {
    /// The IAM principal the Kubernetes steps authenticate as.
    pub principal_arn: String,
    pub status: AccessStatus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AccessStatus {
    /// The workflow created the access entry (cleanup removes it).
    Created,
    /// An access entry with enough rights existed already (cleanup leaves it).
    Existing,
    /// Access entries not managed ([`crate::settings::AccessEntryMode::Skip`], moto-only tests).
    Skipped,
}

/// The event of a step that works on a prepared run: `{"action": ..., "run": ..., "attempt": n}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepEvent<A> {
    pub action: A,
    pub run: Run,
    /// How many status polls came before this one (the state machine passes the last `attempt`).
    #[serde(default)]
    pub attempt: u32,
    /// The execution's ARN (`$$.Execution.Id`), for the steps that take a lease as that execution.
    #[serde(default)]
    pub execution_arn: Option<String>,
}
