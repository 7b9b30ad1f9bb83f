//! `fileSystem` in the execution input: throughput, performance, lifecycle, backup and what cleanup
//! does with the data. The defaults follow AWS's current recommendations for a new file system.

use super::replication::Replication;
use crate::error::{Result, WorkflowError};
use serde::{Deserialize, Serialize};

/// Transitions EFS accepts (its `TransitionToIARules` / `TransitionToArchiveRules` names), plus
/// `NONE` for no transition.
pub const TRANSITIONS: [&str; 10] = [
    "NONE",
    "AFTER_1_DAY",
    "AFTER_7_DAYS",
    "AFTER_14_DAYS",
    "AFTER_30_DAYS",
    "AFTER_60_DAYS",
    "AFTER_90_DAYS",
    "AFTER_180_DAYS",
    "AFTER_270_DAYS",
    "AFTER_365_DAYS",
];
/// Above this EFS refuses provisioned throughput in every region; lower regional limits are its to
/// enforce.
pub const MAX_PROVISIONED_MIBPS: u32 = 10_240;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ThroughputMode {
    #[default]
    Elastic,
    Bursting,
    Provisioned,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PerformanceMode {
    #[default]
    #[serde(rename = "generalPurpose")]
    GeneralPurpose,
    #[serde(rename = "maxIO")]
    MaxIo,
}

/// What cleanup does with the file system (and its mount targets and security group).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Retention {
    #[default]
    Delete,
    /// Cleanup keeps them and reports them: for real data.
    Retain,
}

impl Retention {
    /// The value of the retention tag the file system gets at creation.
    pub fn tag_value(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Retain => "retain",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lifecycle {
    #[serde(rename = "transitionToIA", default = "after_30_days")]
    pub transition_to_ia: String,
    #[serde(default = "none")]
    pub transition_to_archive: String,
    /// `AFTER_1_ACCESS` (back to Standard on first access) or `NONE`.
    #[serde(default = "after_1_access")]
    pub transition_to_primary_storage_class: String,
}

fn after_30_days() -> String {
    "AFTER_30_DAYS".into()
}
fn none() -> String {
    "NONE".into()
}
fn after_1_access() -> String {
    "AFTER_1_ACCESS".into()
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            transition_to_ia: after_30_days(),
            transition_to_archive: none(),
            transition_to_primary_storage_class: after_1_access(),
        }
    }
}

/// The validated file-system options (the input's `fileSystem` with its defaults filled in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileSystemOptions {
    #[serde(default)]
    pub throughput_mode: ThroughputMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_throughput_mibps: Option<u32>,
    #[serde(default)]
    pub performance_mode: PerformanceMode,
    #[serde(default)]
    pub lifecycle: Lifecycle,
    /// The EFS backup policy (AWS Backup's default plan for EFS).
    #[serde(default = "yes")]
    pub backup: bool,
    /// Also accepted as `deletionProtection` (the name the issue tracker and Terraform users
    /// reach for); giving both is a duplicate-field error.
    #[serde(default, alias = "deletionProtection")]
    pub retention: Retention,
    /// A replica in another region; none by default (it doubles the storage bill).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication: Option<Replication>,
}

fn yes() -> bool {
    true
}

impl Default for FileSystemOptions {
    fn default() -> Self {
        Self {
            throughput_mode: ThroughputMode::default(),
            provisioned_throughput_mibps: None,
            performance_mode: PerformanceMode::default(),
            lifecycle: Lifecycle::default(),
            backup: true,
            retention: Retention::default(),
            replication: None,
        }
    }
}

impl FileSystemOptions {
    /// Every rule EFS would otherwise refuse halfway through a run; `prefix` is where the options
    /// sit (`fileSystem` in the input, `run.fileSystem` in a step's run).
    pub fn validate(&self, prefix: &str) -> Result<()> {
        let field = |name: &str| format!("{prefix}.{name}");
        match (self.throughput_mode, self.provisioned_throughput_mibps) {
            (ThroughputMode::Provisioned, None) => {
                return Err(WorkflowError::invalid(
                    field("provisionedThroughputMibps"),
                    "is required when throughputMode is provisioned",
                ));
            }
            (ThroughputMode::Provisioned, Some(mibps)) if !(1..=MAX_PROVISIONED_MIBPS).contains(&mibps) => {
                return Err(WorkflowError::invalid(
                    field("provisionedThroughputMibps"),
                    format!("must be between 1 and {MAX_PROVISIONED_MIBPS} MiB/s, got {mibps}"),
                ));
            }
            (ThroughputMode::Elastic | ThroughputMode::Bursting, Some(_)) => {
                return Err(WorkflowError::invalid(
                    field("provisionedThroughputMibps"),
                    "must be omitted unless throughputMode is provisioned",
                ));
            }
            _ => {}
        }
        if self.performance_mode == PerformanceMode::MaxIo && self.throughput_mode == ThroughputMode::Elastic {
            return Err(WorkflowError::invalid(
                field("performanceMode"),
                "maxIO does not support elastic throughput: set throughputMode to bursting or provisioned",
            ));
        }
        if let Some(replication) = &self.replication {
            replication.validate(&field("replication"))?;
        }
        let lifecycle = &self.lifecycle;
        let ia = transition_days(&field("lifecycle.transitionToIA"), &lifecycle.transition_to_ia)?;
        let archive = transition_days(
            &field("lifecycle.transitionToArchive"),
            &lifecycle.transition_to_archive,
        )?;
        if !["AFTER_1_ACCESS", "NONE"].contains(&lifecycle.transition_to_primary_storage_class.as_str()) {
            return Err(WorkflowError::invalid(
                field("lifecycle.transitionToPrimaryStorageClass"),
                format!(
                    "must be AFTER_1_ACCESS or NONE, got {:?}",
                    lifecycle.transition_to_primary_storage_class
                ),
            ));
        }
        if let Some(archive) = archive {
            if self.throughput_mode != ThroughputMode::Elastic
                || self.performance_mode != PerformanceMode::GeneralPurpose
            {
                return Err(WorkflowError::invalid(
                    field("lifecycle.transitionToArchive"),
                    "needs throughputMode elastic and performanceMode generalPurpose (EFS Archive requires both)",
                ));
            }
            if ia.is_some_and(|ia| archive <= ia) {
                return Err(WorkflowError::invalid(
                    field("lifecycle.transitionToArchive"),
                    "must come later than transitionToIA",
                ));
            }
        }
        Ok(())
    }
}

/// The days of a transition (`None` for `NONE`), or `InvalidInput` for a name EFS does not know.
fn transition_days(field: &str, value: &str) -> Result<Option<u32>> {
    if !TRANSITIONS.contains(&value) {
        return Err(WorkflowError::invalid(
            field,
            format!("must be one of {}, got {value:?}", TRANSITIONS.join(", ")),
        ));
    }
    Ok(value
        .strip_prefix("AFTER_")
        .and_then(|rest| rest.split('_').next())
        .and_then(|days| days.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn options(value: Value) -> FileSystemOptions {
        serde_json::from_value(value).unwrap()
    }

    fn invalid_field(value: Value) -> String {
        match options(value).validate("fileSystem").unwrap_err() {
            WorkflowError::InvalidInput { field, .. } => field,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn defaults_follow_aws_recommendations() {
        let defaults = options(json!({}));
        assert_eq!(defaults, FileSystemOptions::default());
        assert_eq!(defaults.throughput_mode, ThroughputMode::Elastic);
        assert_eq!(defaults.performance_mode, PerformanceMode::GeneralPurpose);
        assert_eq!(defaults.lifecycle.transition_to_ia, "AFTER_30_DAYS");
        assert_eq!(defaults.lifecycle.transition_to_archive, "NONE");
        assert_eq!(defaults.lifecycle.transition_to_primary_storage_class, "AFTER_1_ACCESS");
        assert!(defaults.backup);
        assert_eq!(defaults.retention, Retention::Delete);
        defaults.validate("fileSystem").unwrap();
    }

    #[test]
    fn deletion_protection_is_another_name_for_retention() {
        let options = options(json!({"deletionProtection": "retain"}));
        assert_eq!(options.retention, Retention::Retain);
        let both =
            serde_json::from_value::<FileSystemOptions>(json!({"deletionProtection": "retain", "retention": "delete"}));
        assert!(both.unwrap_err().to_string().contains("duplicate field"));
    }

    #[test]
    fn valid_combinations() {
        for ok in [
            json!({"throughputMode": "provisioned", "provisionedThroughputMibps": 128}),
            json!({"throughputMode": "bursting", "performanceMode": "maxIO"}),
            json!({"lifecycle": {"transitionToIA": "AFTER_7_DAYS", "transitionToArchive": "AFTER_90_DAYS"}}),
            json!({"lifecycle": {"transitionToIA": "NONE", "transitionToPrimaryStorageClass": "NONE"}}),
            json!({"backup": false, "retention": "retain"}),
            json!({"replication": {"region": "us-west-2"}}),
        ] {
            options(ok.clone())
                .validate("fileSystem")
                .unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn every_bad_value_names_its_field() {
        let cases = [
            (json!({"throughputMode": "provisioned"}), "provisionedThroughputMibps"),
            (
                json!({"throughputMode": "provisioned", "provisionedThroughputMibps": 0}),
                "provisionedThroughputMibps",
            ),
            (
                json!({"throughputMode": "provisioned", "provisionedThroughputMibps": 10_241}),
                "provisionedThroughputMibps",
            ),
            (json!({"provisionedThroughputMibps": 64}), "provisionedThroughputMibps"),
            (json!({"performanceMode": "maxIO"}), "performanceMode"),
            (
                json!({"lifecycle": {"transitionToIA": "AFTER_2_DAYS"}}),
                "lifecycle.transitionToIA",
            ),
            (
                json!({"lifecycle": {"transitionToArchive": "SOON"}}),
                "lifecycle.transitionToArchive",
            ),
            (
                json!({"lifecycle": {"transitionToPrimaryStorageClass": "AFTER_2_ACCESSES"}}),
                "lifecycle.transitionToPrimaryStorageClass",
            ),
            (
                json!({"lifecycle": {"transitionToArchive": "AFTER_30_DAYS"}}),
                "lifecycle.transitionToArchive",
            ),
            (
                json!({"throughputMode": "bursting", "lifecycle": {"transitionToArchive": "AFTER_90_DAYS"}}),
                "lifecycle.transitionToArchive",
            ),
            (json!({"replication": {"region": "mars"}}), "replication.region"),
        ];
        for (value, expected) in cases {
            assert_eq!(
                invalid_field(value.clone()),
                format!("fileSystem.{expected}"),
                "{value}"
            );
        }
    }
}
