//! The Kubernetes steps (epic04 PoC app, epic05 validation): each composes the resource modules on
//! one cluster's API and is idempotent.

pub mod poc_app;
pub mod validate;

use crate::error::Result;
use crate::resources::workload::EfsVolume;
use crate::rules;
use crate::run::Run;
use serde::Deserialize;

/// The event of a Kubernetes step: `{"action", "run", "fileSystemId", "accessPointId", "attempt"}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeStepEvent<A> {
    pub action: A,
    pub run: Run,
    /// The file system the `efs` step created or found (its `fileSystemId` output).
    pub file_system_id: String,
    /// The namespace's access point on it (the `efs` step's `accessPoint.accessPointId`): every
    /// volume mounts through it.
    pub access_point_id: String,
    /// How many polls came before this one (the state machine passes the last `attempt`).
    #[serde(default)]
    pub attempt: u32,
}

impl<A> KubeStepEvent<A> {
    pub fn validate(&self) -> Result<()> {
        self.run.validate()?;
        rules::file_system_id("fileSystemId", &self.file_system_id)?;
        rules::access_point_id("accessPointId", &self.access_point_id)
    }

    /// The EFS volume the step's pods mount.
    pub fn volume(&self) -> EfsVolume<'_> {
        EfsVolume {
            file_system_id: &self.file_system_id,
            access_point_id: &self.access_point_id,
        }
    }
}
