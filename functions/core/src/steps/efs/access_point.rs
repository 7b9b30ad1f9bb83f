//! The namespace's EFS access point: every pod mounts the file system through it, as the input's
//! `posixUser`, confined to `/<namespace>` (created by EFS on first mount, owned by that user,
//! mode 0750). Found by our ownership tags, created once per namespace; EFS cannot change an
//! access point, so one of ours with other settings is an `AccessPointConflict`.

use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::input::PosixUser;
use crate::run::Run;
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

/// The access point of the run's namespace on `file_system_id`, created when missing.
pub async fn ensure_access_point(efs: &aws_sdk_efs::Client, run: &Run, file_system_id: &str) -> Result<AccessPoint> {
    let owner = run.owner();
    let path = root_directory(&run.request.namespace);
    let user = run.request.posix_user;
    let ours = aws::efs::access_points(efs, file_system_id)
        .await?
        .into_iter()
        .filter(|ap| owner.owns(ap.tags().iter().map(|t| (t.key(), t.value()))))
        .find(|ap| {
            !matches!(
                ap.life_cycle_state(),
                Some(LifeCycleState::Deleting | LifeCycleState::Deleted)
            )
        });
    let described = match ours {
        Some(existing) => {
            check_settings(&existing, file_system_id, &path, user)?;
            existing
        }
        None => {
            let tags = run
                .tags(&format!("efs-fargate-workflow-{}", run.request.namespace))
                .into_iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| WorkflowError::invalid("tags", e.to_string()))?;
            let request = efs
                .create_access_point()
                .client_token(client_token(run))
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
                        .path(&path)
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
            aws::efs::create_access_point(request).await?
        }
    };
    Ok(AccessPoint {
        access_point_id: described.access_point_id().unwrap_or_default().to_string(),
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

/// Idempotency token of this run's CreateAccessPoint (at most 64 characters): a retried call in
/// the same run gets the same access point; a later run, after a cleanup, a new one.
fn client_token(run: &Run) -> String {
    let digest = Sha256::digest(format!(
        "{}/{}/{}",
        run.request.cluster_name, run.request.namespace, run.run_id
    ));
    let hash: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("efw-ap-{hash}")
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
