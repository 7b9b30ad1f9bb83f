//! The execution input: what a person types in the console, or what EventBridge delivers for a
//! `CreateCluster` API call, turned into one canonical, validated [`ProvisionRequest`].

mod cloudtrail;
pub use cloudtrail::{NAMESPACE_TAG_KEY, TTL_TAG_KEY};
mod console;
pub mod file_system;
pub use file_system::{FileSystemOptions, Retention};
pub mod monitoring;
pub use monitoring::MonitoringOptions;
pub mod posix_user;
pub use posix_user::PosixUser;
pub mod replication;

use crate::error::Result;
use crate::settings::Settings;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const DEFAULT_NAMESPACE: &str = "poc-efs-eks-fargate";

/// The canonical, validated input every step works from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionRequest {
    pub cluster_name: String,
    pub namespace: String,
    pub pod_execution_role_arn: String,
    pub encryption: Encryption,
    /// Absent from runs started before the options existed: those get the defaults.
    #[serde(default)]
    pub file_system: FileSystemOptions,
    /// The uid/gid of the namespace's EFS access point and of the PoC pods; absent from runs
    /// started before access points existed: those get the defaults.
    #[serde(default)]
    pub posix_user: PosixUser,
    /// Absent from runs started before the option existed: nothing more than the default.
    #[serde(default)]
    pub monitoring: MonitoringOptions,
    /// ISO-8601 duration after which the TTL reaper cleans the run up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    pub deploy_poc_app: bool,
    pub on_failure: OnFailure,
    /// Existing resources under the workflow's names that the run may use although the workflow
    /// did not create them. Adopted resources are used as they are and never deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopt: Vec<Adoptable>,
}

/// What a run may adopt. File systems and security groups cannot be adopted: the workflow could
/// not tell its mount targets and rules on them from their owner's, so cleanup could not be exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Adoptable {
    /// A namespace of that name that the workflow did not create.
    Namespace,
    /// A Fargate profile `fp-<namespace>` that the workflow did not create (its spec must match).
    FargateProfile,
}

impl ProvisionRequest {
    pub fn adopts(&self, kind: Adoptable) -> bool {
        self.adopt.contains(&kind)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Encryption {
    pub at_rest: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_alias: Option<String>,
    pub in_transit: bool,
}

impl Default for Encryption {
    fn default() -> Self {
        Self {
            at_rest: true,
            kms_key_alias: None,
            in_transit: true,
        }
    }
}

/// What the provisioning state machine does when a step fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OnFailure {
    /// Start the cleanup state machine for this run.
    #[default]
    Rollback,
    /// Keep everything for inspection.
    Retain,
}

/// What an execution input asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    Provision(Box<ProvisionRequest>),
    /// A dry run (`dryRun: true`): plan the run and change nothing.
    Plan(Box<ProvisionRequest>),
    /// A valid input that asks for nothing, e.g. a cluster created without the opt-in tag.
    Skip {
        reason: String,
    },
}

/// Parses a console input or an EventBridge CloudTrail `CreateCluster` event. Every rule is checked
/// here, before any step creates anything.
pub fn parse_execution_input(input: &Value, settings: &Settings) -> Result<Trigger> {
    if cloudtrail::is_cloudtrail_event(input) {
        cloudtrail::parse(input, settings)
    } else {
        console::parse(input, settings)
    }
}
