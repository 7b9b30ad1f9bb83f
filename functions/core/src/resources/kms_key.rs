//! The KMS key that encrypts a file system at rest, behind the input's alias: a key the alias
//! names already is used (and never deleted unless the ledger records that the workflow created
//! it); a missing alias gets a new key (created, rotated, tagged) that the ledger records in the
//! account's part, with the namespaces that use it. Cleanup schedules a key for deletion only when
//! the ledger records that the workflow created it, no namespace of this deployment still uses it,
//! and no EFS file system is encrypted with it. An alias the workflow created serves EFS only:
//! pointing other services' data at it (S3, EBS) loses that data when the last namespace goes.

use std::collections::BTreeMap;

use aws_sdk_kms::types::{KeyMetadata, KeyState, KeyUsageType, Tag};
use serde::{Deserialize, Serialize};

use super::{Kind, Recorder, Removal, records};
use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::ledger::{Ledger, NamespaceView, Place, Record, RecordState};
use crate::ownership::{Owner, RUN_ID_KEY};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KmsKey {
    pub alias: String,
    pub key_arn: String,
    /// True when the ledger records that the workflow created the key.
    pub created_by_workflow: bool,
}

/// What the alias names now, and the ledger's record of it.
pub struct Found {
    pub alias: String,
    pub key: Option<KeyMetadata>,
    pub record: Option<Record>,
}

/// The one decision about the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// No key behind the alias: the run creates one.
    Create,
    /// The alias names a usable key: `ours` when the ledger records the workflow created it.
    Use(KmsKey),
}

fn place() -> Place<'static> {
    Place::Account
}

/// `user` as the key's record lists it.
pub fn user(owner: &Owner) -> String {
    format!("{}/{}", owner.cluster, owner.namespace)
}

pub async fn find(kms: &aws_sdk_kms::Client, ledger: &Ledger, alias: &str) -> Result<Found> {
    Ok(Found {
        alias: alias.to_string(),
        key: aws::kms::key(kms, alias).await?,
        record: ledger.get(place(), Kind::KmsKey, alias).await?,
    })
}

pub fn decide(found: &Found) -> Result<Decision> {
    let Some(key) = &found.key else {
        return Ok(Decision::Create);
    };
    let key_arn = usable_arn(&found.alias, key)?;
    let ours = found
        .record
        .as_ref()
        .is_some_and(|r| r.is_created() && records(r, &key_arn, None));
    if let Some(record) = found.record.as_ref().filter(|_| !ours) {
        tracing::warn!(alias = found.alias, recorded = ?record.resource_id, now = key_arn, "the alias names a key the ledger does not record for it: used, never deleted");
    }
    Ok(Decision::Use(KmsKey {
        alias: found.alias.clone(),
        key_arn,
        created_by_workflow: ours,
    }))
}

/// Carries out the decision for the namespace of `owner`: the namespace is recorded as a user of a
/// key the workflow created before the key exists, so no other namespace's cleanup retires it
/// while this run is in flight.
pub async fn apply(
    kms: &aws_sdk_kms::Client,
    recorder: Recorder<'_>,
    tags: Vec<(String, String)>,
    decision: Decision,
    alias: &str,
) -> Result<KmsKey> {
    let (ledger, owner, creator) = (recorder.ledger, recorder.owner, recorder.creator);
    match decision {
        Decision::Use(key) => {
            if key.created_by_workflow {
                ledger.add_user(place(), Kind::KmsKey, alias, &user(owner)).await?;
            }
            Ok(key)
        }
        Decision::Create => {
            let record = ledger
                .intend_used_by(place(), Kind::KmsKey, alias, creator, &user(owner))
                .await?;
            if record.run != creator.run_id {
                // Another run is creating this alias's key right now (or left an intent): its
                // confirmation comes first.
                return Err(WorkflowError::DependencyNotReady {
                    resource: format!("KMS alias {alias}"),
                    message: format!("run {} is creating its key", record.run),
                });
            }
            let metadata = match created_by_run(kms, &creator.run_id, alias).await? {
                Some(metadata) => metadata,
                None => create_key(kms, owner, tags).await?,
            };
            let key_arn = metadata.arn().unwrap_or(metadata.key_id()).to_string();
            if !aws::kms::create_alias(kms, alias, metadata.key_id()).await? {
                return Err(WorkflowError::LedgerConflict {
                    record: format!("kmsKey {alias}"),
                    detail: format!(
                        "someone else created the alias while run {} created key {key_arn} for it; the key stays recorded as the workflow's, and cleanup retires it",
                        creator.run_id
                    ),
                });
            }
            ledger
                .confirm(place(), Kind::KmsKey, alias, creator, &key_arn, &BTreeMap::new())
                .await?;
            tracing::info!(alias, key = %key_arn, "KMS key created");
            Ok(KmsKey {
                alias: alias.to_string(),
                key_arn,
                created_by_workflow: true,
            })
        }
    }
}

/// An enabled key run `run_id` created for `alias` (tagged at creation with the run id and the
/// alias as `Name`): a retry after CreateKey succeeded but the alias was not made.
async fn created_by_run(kms: &aws_sdk_kms::Client, run_id: &str, alias: &str) -> Result<Option<KeyMetadata>> {
    for key_id in aws::kms::key_ids(kms).await? {
        let Some(tags) = aws::kms::readable_tags(kms, &key_id).await? else {
            continue;
        };
        if tags.get(RUN_ID_KEY).map(String::as_str) == Some(run_id)
            && tags.get("Name").map(String::as_str) == Some(alias)
            && let Some(metadata) = aws::kms::key(kms, &key_id).await?
            && metadata.key_state() == Some(&KeyState::Enabled)
        {
            tracing::info!(
                alias,
                key = key_id,
                "found the key an earlier attempt of this run created"
            );
            return Ok(Some(metadata));
        }
    }
    Ok(None)
}

async fn create_key(kms: &aws_sdk_kms::Client, owner: &Owner, tags: Vec<(String, String)>) -> Result<KeyMetadata> {
    let key = kms
        .create_key()
        .description(format!(
            "EFS encryption for namespace {} of EKS cluster {} (efs-fargate-workflow; EFS only)",
            owner.namespace, owner.cluster
        ))
        .key_usage(KeyUsageType::EncryptDecrypt)
        .set_tags(Some(
            tags.into_iter()
                .map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build())
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| WorkflowError::invalid("tags", e.to_string()))?,
        ))
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("kms:CreateKey", e))?;
    let metadata = key.key_metadata().cloned().ok_or_else(|| WorkflowError::AwsApiError {
        operation: "kms:CreateKey".into(),
        code: "NoKeyMetadata".into(),
        message: "KMS created a key but described none".into(),
    })?;
    aws::kms::enable_rotation(kms, metadata.key_id()).await?;
    Ok(metadata)
}

pub(crate) fn usable_arn(alias: &str, key: &KeyMetadata) -> Result<String> {
    let unusable = |reason: String| WorkflowError::KmsKeyUnusable {
        alias: alias.to_string(),
        reason,
    };
    if key.key_state() != Some(&KeyState::Enabled) {
        return Err(unusable(format!(
            "the key is {}; enable it or choose another alias",
            key.key_state().map(|s| s.as_str()).unwrap_or("in an unknown state")
        )));
    }
    if key.key_usage().is_some_and(|u| *u != KeyUsageType::EncryptDecrypt) {
        return Err(unusable("EFS needs a symmetric ENCRYPT_DECRYPT key".into()));
    }
    Ok(key.arn().unwrap_or(key.key_id()).to_string())
}

/// The cleanup of the namespace of `owner`: once the namespace's file system is gone from the
/// ledger, it stops using the keys it used; a key the workflow created that no namespace uses any
/// more, and that encrypts no file system, is scheduled for deletion and its alias removed.
pub async fn remove(
    kms: &aws_sdk_kms::Client,
    efs: &aws_sdk_efs::Client,
    ledger: &Ledger,
    owner: &Owner,
    view: &NamespaceView,
    window_days: i32,
) -> Result<Removal> {
    let me = user(owner);
    let mut removal = Removal::done();
    let mut file_systems = None;
    for record in ledger.account().await?.into_iter().filter(|r| r.kind == Kind::KmsKey) {
        let mut users = record.users.clone();
        if users.contains(&me) {
            if view.of_kind(Kind::FileSystem).next().is_some() {
                removal = removal.kept(describe(&record), "the namespace's file system is still recorded");
                continue;
            }
            ledger.remove_user(place(), Kind::KmsKey, &record.key, &me).await?;
            users.remove(&me);
        }
        if !users.is_empty() {
            if record.users.contains(&me) {
                let others: Vec<&str> = users.iter().map(String::as_str).collect();
                removal = removal.kept(describe(&record), format!("still used by {}", others.join(", ")));
            }
            continue;
        }
        let all = match &mut file_systems {
            Some(all) => all,
            None => file_systems.insert(aws::efs::file_systems(efs).await?),
        };
        removal = removal.and(retire(kms, ledger, &record, all, window_days).await?);
    }
    Ok(removal)
}

/// Retires a key no namespace uses: scheduled for deletion (key first, alias second: a retry after a
/// failure in between still finds the key by its alias), unless a file system is encrypted with it.
async fn retire(
    kms: &aws_sdk_kms::Client,
    ledger: &Ledger,
    record: &Record,
    file_systems: &[aws_sdk_efs::types::FileSystemDescription],
    window_days: i32,
) -> Result<Removal> {
    let alias = &record.key;
    let key_id = match (&record.resource_id, record.state) {
        (Some(id), RecordState::Created) => Some(id.clone()),
        // An intent: the key its run may have made before the crash, found by its tags.
        _ => created_by_run(kms, &record.run, alias)
            .await?
            .map(|m| m.arn().unwrap_or(m.key_id()).to_string()),
    };
    let Some(key_id) = key_id else {
        ledger.forget(place(), Kind::KmsKey, alias).await?;
        return Ok(Removal::done());
    };
    let Some(metadata) = aws::kms::key(kms, &key_id).await? else {
        ledger.forget(place(), Kind::KmsKey, alias).await?;
        return Ok(Removal::done());
    };
    if let Some(user) = file_systems
        .iter()
        .find(|fs| encrypts_with(fs, metadata.key_id(), metadata.arn()))
    {
        return Ok(Removal::done().kept(
            describe(record),
            format!("still encrypts file system {}", user.file_system_id()),
        ));
    }
    let mut removal = Removal::done();
    if metadata.key_state() != Some(&KeyState::PendingDeletion) {
        aws::kms::schedule_deletion(kms, metadata.key_id(), window_days).await?;
        removal = removal.removed(metadata.key_id().to_string());
    }
    // Only the alias that names this key: an alias re-pointed at someone else's key stays.
    if aws::kms::key(kms, alias)
        .await?
        .is_some_and(|named| named.key_id() == metadata.key_id())
    {
        aws::kms::delete_alias(kms, alias).await?;
        removal = removal.removed(alias.clone());
    }
    ledger.forget(place(), Kind::KmsKey, alias).await?;
    Ok(removal)
}

fn describe(record: &Record) -> String {
    format!(
        "KMS key {} ({})",
        record.resource_id.as_deref().unwrap_or("not yet created"),
        record.key
    )
}

pub fn encrypts_with(fs: &aws_sdk_efs::types::FileSystemDescription, key_id: &str, key_arn: Option<&str>) -> bool {
    fs.kms_key_id()
        .is_some_and(|used| used == key_id || Some(used) == key_arn || used.ends_with(&format!("/{key_id}")))
}
