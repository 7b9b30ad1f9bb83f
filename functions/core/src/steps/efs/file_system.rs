//! The EFS file system, found or created by its deterministic creation token.

use super::kms::KmsKey;
use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::run::Run;
use aws_sdk_efs::types::{FileSystemDescription, LifeCycleState, PerformanceMode, Tag, ThroughputMode};

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
    let request = efs
        .create_file_system()
        .creation_token(&token)
        .encrypted(at_rest)
        .set_kms_key_id(key.map(|k| k.key_arn.clone()))
        .performance_mode(PerformanceMode::GeneralPurpose)
        .throughput_mode(ThroughputMode::Bursting)
        .set_tags(Some(
            run.tags(&format!(
                "efs-fargate-workflow-{}-{}",
                run.request.cluster_name, run.request.namespace
            ))
            .into_iter()
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

/// Encryption is fixed at creation: a file system with other settings cannot be adopted.
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
