//! The console samples: what a person passes to `StartExecution`.

use efs_fargate_core::input::file_system::{FileSystemOptions, PerformanceMode, ThroughputMode};
use efs_fargate_core::input::{Adoptable, DEFAULT_NAMESPACE, Encryption, OnFailure, ProvisionRequest, Retention};

use crate::samples::{SETTINGS_ROLE, events_dir, load, provision};

/// The role `console/full.json` names instead of the settings' one.
const FULL_ROLE: &str = "arn:aws:iam::123456789012:role/AmazonEKSFargatePodExecutionRole";

#[test]
fn console_minimal_gets_the_defaults() {
    let request = provision("console/minimal.json");
    assert_eq!(
        request,
        ProvisionRequest {
            cluster_name: "demo".into(),
            namespace: DEFAULT_NAMESPACE.into(),
            pod_execution_role_arn: SETTINGS_ROLE.into(),
            encryption: Encryption::default(),
            file_system: Default::default(),
            posix_user: Default::default(),
            monitoring: Default::default(),
            ttl: None,
            deploy_poc_app: true,
            on_failure: OnFailure::Rollback,
            adopt: vec![],
        }
    );
}

#[test]
fn console_full_sets_every_field() {
    let request = provision("console/full.json");
    assert_eq!(
        request,
        ProvisionRequest {
            cluster_name: "demo".into(),
            namespace: "team-a".into(),
            pod_execution_role_arn: FULL_ROLE.into(),
            encryption: Encryption {
                at_rest: true,
                kms_key_alias: Some("alias/efs-poc".into()),
                in_transit: true,
            },
            file_system: FileSystemOptions {
                retention: Retention::Retain,
                ..Default::default()
            },
            posix_user: Default::default(),
            monitoring: Default::default(),
            ttl: Some("PT8H".into()),
            deploy_poc_app: false,
            on_failure: OnFailure::Rollback,
            adopt: vec![],
        }
    );
    // "Every field": the sample names each field of the console input.
    let sample = load("console/full.json");
    for field in [
        "clusterName",
        "namespace",
        "podExecutionRoleArn",
        "encryption",
        "ttl",
        "fileSystem",
        "deployPocApp",
        "onFailure",
    ] {
        assert!(sample.get(field).is_some(), "full.json lacks {field}");
    }
    for field in ["atRest", "kmsKeyAlias", "inTransit"] {
        assert!(
            sample["encryption"].get(field).is_some(),
            "full.json lacks encryption.{field}"
        );
    }
}

#[test]
fn console_retain_on_failure() {
    let request = provision("console/retain-on-failure.json");
    assert_eq!(request.cluster_name, "demo");
    assert_eq!(request.on_failure, OnFailure::Retain);
}

#[test]
fn console_with_ttl() {
    let request = provision("console/with-ttl.json");
    assert_eq!(request.ttl.as_deref(), Some("PT4H"));
    assert_eq!(request.namespace, DEFAULT_NAMESPACE);
}

/// A sample people copy must not delete their data by itself: every one with a TTL keeps its file
/// system when the TTL's cleanup comes.
#[test]
fn every_console_sample_with_a_ttl_keeps_its_file_system() {
    let mut with_ttl = 0;
    for entry in std::fs::read_dir(events_dir().join("console")).unwrap() {
        let name = format!("console/{}", entry.unwrap().file_name().to_string_lossy());
        let sample = load(&name);
        if sample.get("ttl").is_none() {
            continue;
        }
        with_ttl += 1;
        assert_eq!(provision(&name).file_system.retention, Retention::Retain, "{name}");
    }
    assert!(with_ttl >= 2);
}

#[test]
fn console_adopting_a_namespace() {
    let request = provision("console/adopt-existing-namespace.json");
    assert_eq!(request.adopt, vec![Adoptable::Namespace]);
    assert!(request.adopts(Adoptable::Namespace) && !request.adopts(Adoptable::FargateProfile));
}

#[test]
fn console_file_system_options_sets_every_option() {
    let request = provision("console/file-system-options.json");
    let options = &request.file_system;
    assert_eq!(options.throughput_mode, ThroughputMode::Provisioned);
    assert_eq!(options.provisioned_throughput_mibps, Some(128));
    assert_eq!(options.performance_mode, PerformanceMode::MaxIo);
    assert_eq!(options.lifecycle.transition_to_ia, "AFTER_7_DAYS");
    assert_eq!(options.lifecycle.transition_to_archive, "NONE");
    assert_eq!(options.lifecycle.transition_to_primary_storage_class, "AFTER_1_ACCESS");
    assert!(options.backup);
    assert_eq!(options.retention, Retention::Retain);
    let sample = load("console/file-system-options.json");
    for field in [
        "throughputMode",
        "provisionedThroughputMibps",
        "performanceMode",
        "lifecycle",
        "backup",
        "retention",
    ] {
        assert!(
            sample["fileSystem"].get(field).is_some(),
            "file-system-options.json lacks fileSystem.{field}"
        );
    }
}
