//! Error names that only the state machines raise (poll caps), never a
//! function: together with `ErrorName` and the `Lambda.*`/`States.*` names they are every name a
//! definition may use.

/// Each variant's name is the `Error` the execution fails with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr)]
pub enum MachineError {
    /// `prepare` kept reporting the cluster not ACTIVE yet up to its poll cap.
    ClusterNotReadyTimeout,
    /// The Fargate profile did not become ACTIVE within its poll cap.
    FargateProfileTimeout,
    /// The file system or its mount targets did not become available within the poll cap.
    MountTargetsTimeout,
    /// The PoC pods were not Running within the poll cap.
    PodsNotRunningTimeout,
    /// A validation pod did not finish within the poll cap.
    ValidationTimeout,
    /// A cleanup action was not done within the poll cap.
    CleanupTimeout,
}

impl MachineError {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}
