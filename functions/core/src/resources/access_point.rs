//! The namespace's EFS access point: every pod mounts the file system through it, as the input's
//! `posixUser`, confined to `/<namespace>` (created by EFS on first mount, owned by that user,
//! mode 0750). Recorded in the namespace's part of the ledger, created once per namespace; EFS
//! cannot change an access point, so the recorded one with other settings is an
//! `AccessPointConflict`, decided before anything is changed.

use std::collections::BTreeMap;

use super::{CleanupScope, Kind, NOT_RECORDED, Recorder, Removal};
use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::input::PosixUser;
use crate::ledger::{Ledger, NamespaceView, Record};
use crate::ownership::{Owner, RUN_ID_KEY};
use aws_sdk_efs::types::{AccessPointDescription, CreationInfo, LifeCycleState, RootDirectory, Tag};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The root directory's mode: the namespace's user writes, its group reads, nobody else enters.
pub const ROOT_PERMISSIONS: &str = "750";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessPoint {
    pub access_point_id: String,
    pub access_point_arn: String,
    /// What the pods' `/data` is on the file system.
    pub root_directory: String,
    pub uid: u32,
    pub gid: u32,
    pub state: String,
}

/// `/<namespace>`: one directory per namespace, so namespaces sharing nothing but a file system
/// policy's pattern still never see each other's files.
pub fn root_directory(namespace: &str) -> String {
    format!("/{namespace}")
}

/// The ledger's key of the namespace's access point.
pub fn key(owner: &Owner) -> String {
    owner.namespace.clone()
}

/// The recorded access point on the file system, if it still exists (an intent's: the one its
/// run created, by its tags).
pub fn recorded<'a>(record: &Record, points: &'a [AccessPointDescription]) -> Option<&'a AccessPointDescription> {
    points
        .iter()
        .filter(|ap| {
            !matches!(
                ap.life_cycle_state(),
                Some(LifeCycleState::Deleting | LifeCycleState::Deleted)
            )
        })
        .find(|ap| match (&record.resource_id, record.is_created()) {
            (Some(id), true) => ap.access_point_id() == Some(id.as_str()),
            _ => ap
                .tags()
                .iter()
                .any(|t| t.key() == RUN_ID_KEY && t.value() == record.run),
        })
}

#[derive(Clone, Debug)]
pub enum Decision {
    Create,
    Reuse(Box<AccessPointDescription>),
}

/// Decides on the namespace's access point among the file system's `points`, changing nothing.
pub fn decide(
    view: &NamespaceView,
    owner: &Owner,
    points: &[AccessPointDescription],
    file_system_id: &str,
    user: PosixUser,
) -> Result<Decision> {
    let Some(existing) = view
        .find(Kind::AccessPoint, &key(owner))
        .and_then(|r| recorded(r, points))
    else {
        return Ok(Decision::Create);
    };
    check_settings(existing, file_system_id, &root_directory(&owner.namespace), user)?;
    Ok(Decision::Reuse(Box::new(existing.clone())))
}

/// Creates the access point (recorded) or takes the found one.
pub async fn apply(
    efs: &aws_sdk_efs::Client,
    recorder: Recorder<'_>,
    decision: Decision,
    file_system_id: &str,
    user: PosixUser,
    tags: Vec<(String, String)>,
) -> Result<AccessPoint> {
    let owner = recorder.owner;
    let path = root_directory(&owner.namespace);
    let place = recorder.namespace();
    let described = match decision {
        Decision::Reuse(existing) => *existing,
        Decision::Create => {
            recorder.intend(place, Kind::AccessPoint, &key(owner)).await?;
            create(efs, recorder, file_system_id, &path, user, tags).await?
        }
    };
    let id = described.access_point_id().unwrap_or_default();
    recorder
        .settle(place, Kind::AccessPoint, &key(owner), id, BTreeMap::new())
        .await?;
    Ok(AccessPoint {
        access_point_id: id.to_string(),
        access_point_arn: described.access_point_arn().unwrap_or_default().to_string(),
        root_directory: path,
        uid: user.uid,
        gid: user.gid,
        state: described
            .life_cycle_state()
            .map_or("creating", LifeCycleState::as_str)
            .to_string(),
    })
}

async fn create(
    efs: &aws_sdk_efs::Client,
    recorder: Recorder<'_>,
    file_system_id: &str,
    path: &str,
    user: PosixUser,
    tags: Vec<(String, String)>,
) -> Result<AccessPointDescription> {
    let tags = tags
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| WorkflowError::invalid("tags", e.to_string()))?;
    let request = efs
        .create_access_point()
        .client_token(client_token(recorder.owner, &recorder.creator.run_id))
        .file_system_id(file_system_id)
        .posix_user(
            aws_sdk_efs::types::PosixUser::builder()
                .uid(i64::from(user.uid))
                .gid(i64::from(user.gid))
                .build()
                .map_err(|e| WorkflowError::invalid("posixUser", e.to_string()))?,
        )
        .root_directory(
            RootDirectory::builder()
                .path(path)
                .creation_info(
                    CreationInfo::builder()
                        .owner_uid(i64::from(user.uid))
                        .owner_gid(i64::from(user.gid))
                        .permissions(ROOT_PERMISSIONS)
                        .build()
                        .map_err(|e| WorkflowError::invalid("posixUser", e.to_string()))?,
                )
                .build(),
        )
        .set_tags(Some(tags));
    aws::efs::create_access_point(request).await
}

/// Idempotency token of a run's CreateAccessPoint (at most 64 characters): a retried call in the
/// same run gets the same access point; a later run, after a cleanup, a new one.
fn client_token(owner: &Owner, run_id: &str) -> String {
    let digest = Sha256::digest(format!("{}/{}/{run_id}", owner.cluster, owner.namespace));
    let hash: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("efw-ap-{hash}")
}

/// Deletes the namespace's recorded access point (in a rollback: its run's), unless the file
/// system is retained; the ones that carry our tags but are not recorded are reported.
pub async fn remove(
    efs: &aws_sdk_efs::Client,
    ledger: &Ledger,
    owner: &Owner,
    view: &NamespaceView,
    scope: &CleanupScope,
) -> Result<Removal> {
    let place = owner.place();
    let Some(fs_record) = view.find(Kind::FileSystem, &owner.creation_token()) else {
        return Ok(Removal::done());
    };
    let Some(fs_id) = super::file_system::recorded_id(efs, fs_record).await? else {
        return Ok(Removal::done());
    };
    let points = aws::efs::access_points(efs, &fs_id).await?;
    let mut removal = Removal::done();
    let records: Vec<&Record> = view.of_kind(Kind::AccessPoint).collect();
    for ap in &points {
        let id = ap.access_point_id().unwrap_or_default();
        let ours = owner.owns(ap.tags().iter().map(|t| (t.key(), t.value())));
        if ours && !records.iter().any(|r| recorded(r, std::slice::from_ref(ap)).is_some()) {
            removal = removal.kept(format!("access point {id}"), NOT_RECORDED);
        }
    }
    let retained = super::file_system::retained(view, owner).is_some();
    for record in records {
        let what = format!("access point {}", record.resource_id.as_deref().unwrap_or(&record.key));
        if let Some(why) = scope.keeps(record) {
            removal = removal.kept(what, why);
            continue;
        }
        if retained {
            removal = removal.kept(what, format!("on retained file system {fs_id}"));
            continue;
        }
        if let Some(ap) = recorded(record, &points) {
            let id = ap.access_point_id().unwrap_or_default();
            if aws::efs::delete_access_point(efs, id).await? {
                removal = removal.removed(id.to_string());
            }
        }
        ledger.forget(place, Kind::AccessPoint, &record.key).await?;
    }
    Ok(removal)
}

fn check_settings(ap: &AccessPointDescription, file_system_id: &str, path: &str, user: PosixUser) -> Result<()> {
    let posix = ap.posix_user();
    let root = ap.root_directory();
    let creation = root.and_then(RootDirectory::creation_info);
    let actual = (
        posix.map(|p| p.uid()),
        posix.map(|p| p.gid()),
        root.and_then(RootDirectory::path),
        creation.map(|c| (c.owner_uid(), c.owner_gid(), c.permissions())),
    );
    let (uid, gid) = (i64::from(user.uid), i64::from(user.gid));
    let wanted = (Some(uid), Some(gid), Some(path), Some((uid, gid, ROOT_PERMISSIONS)));
    if actual == wanted {
        return Ok(());
    }
    Err(WorkflowError::AccessPointConflict {
        access_point_id: ap.access_point_id().unwrap_or_default().to_string(),
        file_system_id: file_system_id.to_string(),
        difference: format!(
            "it enforces uid {} gid {} on {} (created {}), the input asks for uid {uid} gid {gid} on {path} (created {uid}:{gid} mode {ROOT_PERMISSIONS})",
            describe(actual.0),
            describe(actual.1),
            actual.2.unwrap_or("(no root directory)"),
            actual
                .3
                .map_or("without creation info".to_string(), |(u, g, p)| format!(
                    "{u}:{g} mode {p}"
                )),
        ),
    })
}

fn describe(id: Option<i64>) -> String {
    id.map_or("(none)".to_string(), |id| id.to_string())
}

/// Whether EFS serves mounts through it yet.
pub fn is_available(ap: &AccessPoint) -> bool {
    ap.state == LifeCycleState::Available.as_str()
}
