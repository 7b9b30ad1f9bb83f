//! Converges an existing file system to the input's throughput, lifecycle and backup settings:
//! the ones EFS changes in place. Performance mode and encryption cannot change
//! ([`super::file_system`] makes them a `FileSystemConflict`).

use crate::aws;
use crate::error::Result;
use crate::input::FileSystemOptions;
use crate::input::file_system::{Lifecycle, PerformanceMode, ThroughputMode};
use aws_sdk_efs::types::{
    FileSystemDescription, LifecyclePolicy, TransitionToArchiveRules, TransitionToIaRules,
    TransitionToPrimaryStorageClassRules,
};

pub fn sdk_throughput_mode(mode: ThroughputMode) -> aws_sdk_efs::types::ThroughputMode {
    match mode {
        ThroughputMode::Elastic => aws_sdk_efs::types::ThroughputMode::Elastic,
        ThroughputMode::Bursting => aws_sdk_efs::types::ThroughputMode::Bursting,
        ThroughputMode::Provisioned => aws_sdk_efs::types::ThroughputMode::Provisioned,
    }
}

pub fn sdk_performance_mode(mode: PerformanceMode) -> aws_sdk_efs::types::PerformanceMode {
    match mode {
        PerformanceMode::GeneralPurpose => aws_sdk_efs::types::PerformanceMode::GeneralPurpose,
        PerformanceMode::MaxIo => aws_sdk_efs::types::PerformanceMode::MaxIo,
    }
}

/// The lifecycle configuration EFS expects: one policy per transition that is not `NONE`.
pub fn lifecycle_policies(lifecycle: &Lifecycle) -> Vec<LifecyclePolicy> {
    let set = |value: &str| (value != "NONE").then(|| value.to_string());
    let mut policies = Vec::new();
    if let Some(ia) = set(&lifecycle.transition_to_ia) {
        policies.push(
            LifecyclePolicy::builder()
                .transition_to_ia(TransitionToIaRules::from(ia.as_str()))
                .build(),
        );
    }
    if let Some(archive) = set(&lifecycle.transition_to_archive) {
        policies.push(
            LifecyclePolicy::builder()
                .transition_to_archive(TransitionToArchiveRules::from(archive.as_str()))
                .build(),
        );
    }
    if let Some(primary) = set(&lifecycle.transition_to_primary_storage_class) {
        policies.push(
            LifecyclePolicy::builder()
                .transition_to_primary_storage_class(TransitionToPrimaryStorageClassRules::from(primary.as_str()))
                .build(),
        );
    }
    policies
}

/// Applies what differs on an `available` file system; `true` when it changed the throughput,
/// which puts the file system in `updating` (the caller's next poll waits for it).
pub async fn converge(
    efs: &aws_sdk_efs::Client,
    fs: &FileSystemDescription,
    options: &FileSystemOptions,
) -> Result<bool> {
    let id = fs.file_system_id();
    let mut changed = Vec::new();
    let mode = sdk_throughput_mode(options.throughput_mode);
    let mibps = options.provisioned_throughput_mibps.map(f64::from);
    let provisioned_differs =
        options.throughput_mode == ThroughputMode::Provisioned && fs.provisioned_throughput_in_mibps() != mibps;
    let updating = fs.throughput_mode() != Some(&mode) || provisioned_differs;
    if updating {
        aws::efs::update_throughput(efs, id, mode.clone(), mibps).await?;
        changed.push(format!("throughput mode {}", mode.as_str()));
    }
    let wanted = lifecycle_policies(&options.lifecycle);
    let actual = aws::efs::lifecycle_policies(efs, id).await?;
    if !same_policies(&wanted, &actual) {
        aws::efs::put_lifecycle_policies(efs, id, wanted).await?;
        changed.push("lifecycle configuration".to_string());
    }
    if aws::efs::backup_enabled(efs, id).await? != options.backup {
        aws::efs::put_backup_policy(efs, id, options.backup).await?;
        changed.push(format!(
            "backup {}",
            if options.backup { "enabled" } else { "disabled" }
        ));
    }
    if !changed.is_empty() {
        tracing::info!(file_system = id, ?changed, "file system settings converged");
    }
    Ok(updating)
}

/// EFS returns the policies in its own order.
fn same_policies(wanted: &[LifecyclePolicy], actual: &[LifecyclePolicy]) -> bool {
    wanted.len() == actual.len() && wanted.iter().all(|w| actual.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_lifecycle_is_ia_after_30_days_and_back_on_first_access() {
        let policies = lifecycle_policies(&Lifecycle::default());
        assert_eq!(policies.len(), 2);
        assert_eq!(policies[0].transition_to_ia(), Some(&TransitionToIaRules::After30Days));
        assert_eq!(
            policies[1].transition_to_primary_storage_class(),
            Some(&TransitionToPrimaryStorageClassRules::After1Access)
        );
        let none = Lifecycle {
            transition_to_ia: "NONE".into(),
            transition_to_archive: "NONE".into(),
            transition_to_primary_storage_class: "NONE".into(),
        };
        assert!(lifecycle_policies(&none).is_empty());
        assert!(same_policies(&policies, &[policies[1].clone(), policies[0].clone()]));
    }
}
