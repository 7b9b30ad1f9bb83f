//! AWS's latency model (README, Performance): the low, median and high case of every change, from
//! the one place the workflow's own poll plans read them (`efs_fargate_core::pacing`), and the
//! critical-path lower bound of a provisioning run under each case.

use efs_fargate_core::pacing::{self, Expected};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Case {
    Low,
    Median,
    High,
}

/// Simulated seconds each change takes in one case.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Latencies {
    pub fargate_profile: u32,
    pub file_system: u32,
    /// After the file system is available (mount targets cannot be created before).
    pub mount_targets: u32,
    /// A Fargate pod, created to Running: the app's pods, then the validation pod.
    pub pod_start: u32,
    /// Two Running apps each printing the other's line: the fake cluster's apps write every 5 s,
    /// so one write cycle, whatever the case (the bound takes the least the replay can do).
    pub cross_read: u32,
    /// Fargate profile and mount target deletions (cleanup only; not part of the bound).
    pub deletion: u32,
}

/// The storage class and CSI driver are two Kubernetes writes: no latency to speak of.
const STORAGE_CLASS: u32 = 0;
/// Deletions in the cleanup runs: outside the model, a round minute.
const DELETION: u32 = 60;

impl Case {
    pub const ALL: [Case; 3] = [Case::Low, Case::Median, Case::High];

    pub fn name(self) -> &'static str {
        match self {
            Case::Low => "low",
            Case::Median => "median",
            Case::High => "high",
        }
    }

    fn pick(self, expected: Expected) -> u32 {
        match self {
            Case::Low => expected.low,
            Case::Median => expected.median,
            Case::High => expected.high,
        }
    }

    pub fn latencies(self) -> Latencies {
        Latencies {
            fargate_profile: self.pick(pacing::FARGATE_PROFILE),
            file_system: self.pick(pacing::FILE_SYSTEM),
            mount_targets: self.pick(pacing::MOUNT_TARGETS),
            pod_start: self.pick(pacing::FARGATE_POD),
            cross_read: pacing::CROSS_READ.low,
            deletion: DELETION,
        }
    }

    /// The goal of issue 11: the median within 1.05 × the bound, low and high within 1.15 ×.
    pub fn ratio_goal(self) -> f64 {
        if self == Case::Median { 1.05 } else { 1.15 }
    }
}

impl Latencies {
    /// max(profile, file system + mount targets) + storage class + pods + cross-read +
    /// persistence, where persistence is the validation pod's start (the fake cluster deletes the
    /// app at once, so the app's grace period adds nothing here).
    pub fn bound(&self) -> u32 {
        let infrastructure = self.fargate_profile.max(self.file_system + self.mount_targets);
        infrastructure + STORAGE_CLASS + self.pod_start + self.cross_read + self.pod_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_bound_adds_up_the_critical_path() {
        // 180 (profile > 10 + 80) + 75 + 5 + 75.
        assert_eq!(Case::Median.latencies().bound(), 335);
        assert_eq!(Case::Low.latencies().bound(), 120 + 60 + 5 + 60);
    }
}
