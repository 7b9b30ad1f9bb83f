//! The namespace's EFS file system, found by its deterministic creation token and recorded in the
//! namespace's part of the ledger (with its retention). A file system under the token that the
//! ledger does not record is someone else's: `FileSystemConflict`, never used, changed or
//! deleted. What cannot change on an existing one (encryption, its key, performance mode,
//! retention) is decided before anything is changed; throughput, lifecycle and backup converge
//! (`options`), and the file system policy admits exactly the namespace's access points (`policy`).

pub mod options;
pub mod policy;

use std::collections::BTreeMap;

use aws_sdk_efs::types::{FileSystemDescription, LifeCycleState, Tag};
use jiff::Timestamp;

use super::{Kind, NOT_RECORDED, Recorder, Removal, records};
use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::input::ProvisionRequest;
use crate::ledger::{Ledger, NamespaceView, Place, Record};
use crate::ownership::{Owner, RETAIN_VALUE, RETENTION_KEY};
use options::{sdk_performance_mode, sdk_throughput_mode};

/// The ledger attribute that keeps the file system's retention (`retain` or `delete`).
const RETENTION: &str = "retention";

/// What answers to the namespace's creation token, and the ledger's record of it.
#[derive(Clone, Debug)]
pub struct Found {
    pub file_system: Option<FileSystemDescription>,
    pub record: Option<Record>,
}

impl Found {
    /// The file system, when the ledger records it as the workflow's.
    pub fn ours(&self) -> Option<&FileSystemDescription> {
        let (fs, record) = (self.file_system.as_ref()?, self.record.as_ref()?);
        records(record, fs.file_system_id(), created_at(fs)).then_some(fs)
    }
}

#[derive(Clone, Debug)]
pub enum Decision {
    Create,
    /// The workflow's own, with settings this run can use.
    Reuse(Box<FileSystemDescription>),
}

fn place(owner: &Owner) -> Place<'_> {
    owner.place()
}

fn created_at(fs: &FileSystemDescription) -> Option<Timestamp> {
    Timestamp::from_second(fs.creation_time().secs()).ok()
}

pub async fn find(efs: &aws_sdk_efs::Client, view: &NamespaceView, owner: &Owner) -> Result<Found> {
    let token = owner.creation_token();
    Ok(Found {
        file_system: aws::efs::file_system_by_token(efs, &token).await?,
        record: view.find(Kind::FileSystem, &token).cloned(),
    })
}

/// Decides, changing nothing. `key` is the key the run encrypts with (its ARN, or `None` for the
/// AWS-managed key).
pub fn decide(found: &Found, request: &ProvisionRequest, key: Option<&KeyChoice>) -> Result<Decision> {
    let Some(fs) = &found.file_system else {
        return Ok(Decision::Create);
    };
    let conflict = |difference: String| WorkflowError::FileSystemConflict {
        file_system_id: fs.file_system_id().to_string(),
        creation_token: fs.creation_token().to_string(),
        difference,
    };
    if found.ours().is_none() {
        return Err(conflict(format!(
            "it is {NOT_RECORDED}, so the workflow will neither use nor delete it; delete or re-token it, or choose another namespace"
        )));
    }
    let encrypted = fs.encrypted().unwrap_or(false);
    if encrypted != request.encryption.at_rest {
        return Err(conflict(format!(
            "encrypted at rest is {encrypted}, the input asks for {}",
            request.encryption.at_rest
        )));
    }
    let performance = sdk_performance_mode(request.file_system.performance_mode);
    if *fs.performance_mode() != performance {
        return Err(conflict(format!(
            "performance mode is {}, the input asks for {} (EFS cannot change it)",
            fs.performance_mode().as_str(),
            performance.as_str()
        )));
    }
    let recorded = found.record.as_ref().and_then(|r| r.attribute(RETENTION));
    let wanted = request.file_system.retention.tag_value();
    if let Some(recorded) = recorded.filter(|r| *r != wanted) {
        return Err(conflict(format!(
            "retention is {recorded} (set at creation, recorded in the ledger), the input asks for {wanted}"
        )));
    }
    if let Some(key) = key {
        let key_id = key.arn.rsplit('/').next().unwrap_or_default();
        match fs.kms_key_id() {
            Some(actual) if actual == key.arn || actual.ends_with(key_id) || actual == key.alias => {}
            actual => {
                return Err(conflict(format!(
                    "encrypted with {}, the input asks for {}",
                    actual.unwrap_or("the AWS-managed key"),
                    key.alias
                )));
            }
        }
    }
    Ok(Decision::Reuse(Box::new(fs.clone())))
}

/// The customer key the run encrypts with.
pub struct KeyChoice {
    pub alias: String,
    pub arn: String,
}

/// Carries out the decision: a new file system is recorded (intent before the call, confirmed
/// with its id after); a found one whose intent an interrupted run left is confirmed.
pub async fn apply(
    efs: &aws_sdk_efs::Client,
    recorder: Recorder<'_>,
    request: &ProvisionRequest,
    found: &Found,
    decision: Decision,
    tags: Vec<(String, String)>,
    key_arn: Option<&str>,
) -> Result<FileSystemDescription> {
    let token = recorder.owner.creation_token();
    let place = recorder.namespace();
    let fs = match decision {
        Decision::Reuse(fs) => *fs,
        Decision::Create => {
            // A record whose file system is gone (deleted by hand) no longer stands for anything.
            if found.record.as_ref().is_some_and(Record::is_created) {
                recorder.ledger.forget(place, Kind::FileSystem, &token).await?;
            }
            recorder.intend(place, Kind::FileSystem, &token).await?;
            create(efs, &token, request, tags, key_arn).await?;
            aws::efs::file_system_by_token(efs, &token)
                .await?
                .ok_or_else(|| WorkflowError::AwsApiError {
                    operation: "efs:DescribeFileSystems".into(),
                    code: "FileSystemNotFound".into(),
                    message: format!("no file system answers to creation token {token} right after its creation"),
                })?
        }
    };
    let retention = request.file_system.retention.tag_value().to_string();
    let attributes = BTreeMap::from([(RETENTION.to_string(), retention)]);
    recorder
        .settle(place, Kind::FileSystem, &token, fs.file_system_id(), attributes)
        .await?;
    Ok(fs)
}

async fn create(
    efs: &aws_sdk_efs::Client,
    token: &str,
    request: &ProvisionRequest,
    mut tags: Vec<(String, String)>,
    key_arn: Option<&str>,
) -> Result<()> {
    let options = &request.file_system;
    // For people: the ledger's record is what cleanup reads.
    tags.push((RETENTION_KEY.to_string(), options.retention.tag_value().to_string()));
    let create = efs
        .create_file_system()
        .creation_token(token)
        .encrypted(request.encryption.at_rest)
        .set_kms_key_id(key_arn.map(str::to_string))
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
    aws::efs::create_file_system(create).await.map(|_| ())
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

/// Whether the ledger says the namespace's file system is retained (cleanup keeps it, its mount
/// targets, security group, access points and key).
pub fn retained<'a>(view: &'a NamespaceView, owner: &Owner) -> Option<&'a Record> {
    view.find(Kind::FileSystem, &owner.creation_token())
        .filter(|r| r.attribute(RETENTION) == Some(RETAIN_VALUE))
}

/// Why a retained file system stays.
pub fn retained_reason() -> String {
    "retained: created with fileSystem.retention retain (recorded in the ledger); delete it by hand when the data is no longer needed".to_string()
}

/// The file system's id as the ledger records it (an intent is resolved by the token: a file
/// system created after it).
pub async fn recorded_id(efs: &aws_sdk_efs::Client, record: &Record) -> Result<Option<String>> {
    if let Some(id) = record.resource_id.as_ref().filter(|_| record.is_created()) {
        return Ok(Some(id.clone()));
    }
    Ok(aws::efs::file_system_by_token(efs, &record.key)
        .await?
        .filter(|fs| records(record, fs.file_system_id(), created_at(fs)))
        .map(|fs| fs.file_system_id().to_string()))
}

/// Deletes the namespace's file system when the ledger records it and this cleanup may (in a
/// rollback: its run created it), unless it is retained; its access points and replication go
/// first (their own modules). Polls until it is gone, then forgets it.
pub async fn remove(
    efs: &aws_sdk_efs::Client,
    ledger: &Ledger,
    owner: &Owner,
    view: &NamespaceView,
    scope: &super::CleanupScope,
) -> Result<Removal> {
    let token = owner.creation_token();
    let Some(record) = view.find(Kind::FileSystem, &token) else {
        return match aws::efs::file_system_by_token(efs, &token).await? {
            Some(fs) => unrecorded(ledger, &fs).await,
            None => Ok(Removal::done()),
        };
    };
    let what = format!("file system {}", record.resource_id.as_deref().unwrap_or(&token));
    if let Some(why) = scope.keeps(record) {
        return Ok(Removal::done().kept(what, why));
    }
    if retained(view, owner).is_some() {
        return Ok(Removal::done().kept(what, retained_reason()));
    }
    let Some(id) = recorded_id(efs, record).await? else {
        ledger.forget(place(owner), Kind::FileSystem, &token).await?;
        return Ok(Removal::done());
    };
    let Some(fs) = aws::efs::file_system(efs, &id).await? else {
        ledger.forget(place(owner), Kind::FileSystem, &token).await?;
        return Ok(Removal::done());
    };
    if *fs.life_cycle_state() == LifeCycleState::Deleting {
        return Ok(Removal::pending());
    }
    // `DependencyNotReady` (retried) while its mount targets are still being deleted.
    if aws::efs::delete_file_system(efs, &id).await? {
        return Ok(Removal::pending().removed(id));
    }
    ledger.forget(place(owner), Kind::FileSystem, &token).await?;
    Ok(Removal::done())
}

/// A file system under the namespace's creation token that the ledger does not record, reported
/// as kept; with its KMS key, which no cleanup touches either unless the ledger records it.
async fn unrecorded(ledger: &Ledger, fs: &FileSystemDescription) -> Result<Removal> {
    let id = fs.file_system_id();
    let removal = Removal::done().kept(format!("file system {id}"), NOT_RECORDED);
    let Some(key) = fs.kms_key_id() else {
        return Ok(removal);
    };
    let recorded = ledger
        .account()
        .await?
        .iter()
        .any(|r| r.kind == Kind::KmsKey && r.resource_id.as_deref() == Some(key));
    Ok(if recorded {
        removal
    } else {
        removal.kept(format!("KMS key {key} of file system {id}"), NOT_RECORDED)
    })
}
