//! The EFS file system, found or created by its deterministic creation token, with the input's
//! `fileSystem` options; what cannot change on an existing one is a `FileSystemConflict`.

use super::kms::KmsKey;
use super::options::{sdk_performance_mode, sdk_throughput_mode};
use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::input::Retention;
use crate::ownership::{RETENTION_KEY, retained};
use crate::run::Run;
use aws_sdk_efs::types::{FileSystemDescription, LifeCycleState, Tag};

pub async fn ensure_file_system(
    efs: &aws_sdk_efs::Client,
    run: &Run,
    key: Option<&KmsKey>,
) -> Result<FileSystemDescription> {
    let token = run.owner().creation_token();
    if let Some(existing) = aws::efs::file_system_by_token(efs, &token).await? {
        check_settings(&existing, run, key)?;
        return Ok(existing);
    }
    let at_rest = run.request.encryption.at_rest;
    let options = &run.request.file_system;
    let mut tags = run.tags(&format!(
        "efs-fargate-workflow-{}-{}",
        run.request.cluster_name, run.request.namespace
    ));
    // Cleanup reads retention from here alone; tagging later is not allowed to the workflow.
    tags.push((RETENTION_KEY.to_string(), options.retention.tag_value().to_string()));
    let request = efs
        .create_file_system()
        .creation_token(&token)
        .encrypted(at_rest)
        .set_kms_key_id(key.map(|k| k.key_arn.clone()))
        .performance_mode(sdk_performance_mode(options.performance_mode))
        .throughput_mode(sdk_throughput_mode(options.throughput_mode))
        .set_provisioned_throughput_in_mibps(options.provisioned_throughput_mibps.map(f64::from))
        // The backup policy is set at creation; lifecycle needs its own call once available.
        .backup(options.backup)
        .set_tags(Some(
            tags.into_iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| WorkflowError::invalid("tags", e.to_string()))?,
        ));
    // A retry after a lost response counts as created; the error's FileSystemId may be empty, so
    // the file system is looked up again.
    aws::efs::create_file_system(request).await?;
    aws::efs::file_system_by_token(efs, &token)
        .await?
        .ok_or_else(|| WorkflowError::AwsApiError {
            operation: "efs:DescribeFileSystems".into(),
            code: "FileSystemNotFound".into(),
            message: format!("no file system answers to creation token {token} right after its creation"),
        })
}

/// Fails for a file system that is gone or broken; `Ok(false)` while it is still being created.
pub fn is_available(fs: &FileSystemDescription) -> Result<bool> {
    match fs.life_cycle_state() {
        LifeCycleState::Available => Ok(true),
        LifeCycleState::Creating | LifeCycleState::Updating => Ok(false),
        other => Err(WorkflowError::FileSystemFailed {
            resource: format!("file system {}", fs.file_system_id()),
            state: other.as_str().to_string(),
        }),
    }
}

/// Encryption, performance mode and (for the workflow, which may not re-tag it) retention are
/// fixed at creation: a file system with other settings cannot be used.
fn check_settings(fs: &FileSystemDescription, run: &Run, key: Option<&KmsKey>) -> Result<()> {
    let encrypted = fs.encrypted().unwrap_or(false);
    let conflict = |difference: String| WorkflowError::FileSystemConflict {
        file_system_id: fs.file_system_id().to_string(),
        creation_token: fs.creation_token().to_string(),
        difference,
    };
    if encrypted != run.request.encryption.at_rest {
        return Err(conflict(format!(
            "encrypted at rest is {encrypted}, the input asks for {}",
            run.request.encryption.at_rest
        )));
    }
    let performance = sdk_performance_mode(run.request.file_system.performance_mode);
    if *fs.performance_mode() != performance {
        return Err(conflict(format!(
            "performance mode is {}, the input asks for {} (EFS cannot change it)",
            fs.performance_mode().as_str(),
            performance.as_str()
        )));
    }
    let is_retained = retained(fs.tags().iter().map(|t| (t.key(), t.value())));
    if is_retained != (run.request.file_system.retention == Retention::Retain) {
        let tagged = if is_retained { "retain" } else { "delete" };
        return Err(conflict(format!(
            "retention is {tagged} (tag {RETENTION_KEY}, set at creation; the workflow may not re-tag it), the input asks for {}",
            run.request.file_system.retention.tag_value()
        )));
    }
    if let Some(key) = key {
        let key_id = key.key_arn.rsplit('/').next().unwrap_or_default();
        match fs.kms_key_id() {
            Some(actual) if actual == key.key_arn || actual.ends_with(key_id) || actual == key.alias => {}
            actual => {
                return Err(conflict(format!(
                    "encrypted with {}, the input asks for {}",
                    actual.unwrap_or("the AWS-managed key"),
                    key.alias
                )));
            }
        }
    }
    Ok(())
}
