//! What the kubelet mounts for a container: EFS volumes through PVC → PV → `csi` (driver
//! `efs.csi.aws.com`, handle `fs-…[:path[:fsap-…]]`) and `emptyDir`. Everything else fails to mount
//! with an event, as on Fargate. Through an access point the volume is the access point's root
//! directory (created with its creation info on first mount) and every file operation runs as its
//! POSIX user; without one, as the container's `runAsUser`/`runAsGroup` (root by default), root
//! squashed to `nobody` when the file system policy grants no root access.

use std::collections::HashMap;

use serde_json::Value;

use crate::cluster::efs::EfsFacts;
use crate::cluster::efs_policy::{self, ClientRequest};
use crate::kind::Kind;
use crate::shell::exec::Mount;
use crate::store::{ObjectKey, Store};
use crate::volumes::{FileSystems, Identity, SharedTree, normalize};

pub const EFS_DRIVER: &str = "efs.csi.aws.com";

/// Why a volume can't be mounted: the event's reason and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountFailure {
    /// `FailedMount` or `FailedAttachVolume`.
    pub reason: &'static str,
    pub message: String,
}

fn failed_mount(message: String) -> MountFailure {
    MountFailure {
        reason: "FailedMount",
        message,
    }
}

/// The pod's `emptyDir` volumes, shared by its containers.
pub fn empty_dirs(pod: &Value) -> HashMap<String, SharedTree> {
    pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|volume| volume.get("emptyDir").is_some())
        .filter_map(|volume| volume["name"].as_str())
        .map(|name| (name.to_string(), SharedTree::default()))
        .collect()
}

/// The mounts of one container of `pod`.
pub fn container_mounts(
    store: &Store,
    file_systems: &FileSystems,
    pod: &Value,
    container: &Value,
    empty_dirs: &HashMap<String, SharedTree>,
    efs: &EfsFacts,
) -> Result<Vec<Mount>, MountFailure> {
    let user = container_user(pod, container);
    let mut mounts = Vec::new();
    for volume_mount in container["volumeMounts"].as_array().into_iter().flatten() {
        let name = volume_mount["name"].as_str().unwrap_or_default();
        if !volume_mount["subPath"].as_str().unwrap_or_default().is_empty()
            || !volume_mount["subPathExpr"].as_str().unwrap_or_default().is_empty()
        {
            return Err(failed_mount(format!(
                "subPath mounts are not emulated by fake-kube-apiserver (volume \"{name}\")"
            )));
        }
        let volume = pod["spec"]["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == name)
            .ok_or_else(|| failed_mount(format!("volume \"{name}\" not found in the pod")))?;
        let (tree, root, who) = if let Some(tree) = empty_dirs.get(name) {
            (tree.clone(), "/".to_string(), Identity::ROOT)
        } else if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
            let (handle, secure_transport) = volume_handle(store, pod, name, claim)?;
            efs_volume(file_systems, efs, &handle, secure_transport, user)?
        } else {
            return Err(failed_mount(format!(
                "the volume type of \"{name}\" is not emulated by fake-kube-apiserver (only PVCs of EFS PVs and emptyDir)"
            )));
        };
        mounts.push(Mount {
            path: normalize(volume_mount["mountPath"].as_str().unwrap_or_default()),
            tree,
            root,
            who,
        });
    }
    Ok(mounts)
}

/// The uid and gid the container's processes run as (container settings override the pod's).
fn container_user(pod: &Value, container: &Value) -> Identity {
    let id = |field: &str| {
        container["securityContext"][field]
            .as_u64()
            .or_else(|| pod["spec"]["securityContext"][field].as_u64())
            .and_then(|id| u32::try_from(id).ok())
            .unwrap_or(0)
    };
    Identity {
        uid: id("runAsUser"),
        gid: id("runAsGroup"),
    }
}

/// Every EFS volume handle the pod's claims lead to (for [`super::efs::facts`]), parsed; those
/// that do not parse fail later, at mount time.
pub fn efs_handles(store: &Store, pod: &Value) -> Vec<(String, Option<String>)> {
    pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|volume| {
            let claim = volume["persistentVolumeClaim"]["claimName"].as_str()?;
            let name = volume["name"].as_str().unwrap_or_default();
            let (handle, _) = volume_handle(store, pod, name, claim).ok()?;
            let (file_system, _, access_point) = parse_volume_handle(&handle).ok()?;
            Some((file_system.to_string(), access_point.map(str::to_string)))
        })
        .collect()
}

/// The handle of the EFS PV behind `claim`, once the PV controller and the CSI driver agree, and
/// whether the driver mounts it with TLS (`encryptInTransit`, true unless the PV says "false").
fn volume_handle(store: &Store, pod: &Value, volume: &str, claim: &str) -> Result<(String, bool), MountFailure> {
    let namespace = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let pvc = store
        .get(&ObjectKey::new(Kind::PersistentVolumeClaim, namespace, claim))
        .ok_or_else(|| failed_mount(format!("persistentvolumeclaim \"{claim}\" not found")))?;
    let pv_name = pvc["spec"]["volumeName"].as_str().unwrap_or_default();
    let pv = store
        .get(&ObjectKey::new(Kind::PersistentVolume, "", pv_name))
        .filter(|_| pvc["status"]["phase"] == "Bound")
        .ok_or_else(|| failed_mount(format!("PVC {claim} is not bound (volume \"{volume}\")")))?;
    let csi = &pv["spec"]["csi"];
    let Some(driver) = csi["driver"].as_str() else {
        return Err(failed_mount(format!(
            "MountVolume.SetUp failed for volume \"{pv_name}\" : only CSI volumes of {EFS_DRIVER} are emulated"
        )));
    };
    if driver != EFS_DRIVER {
        return Err(failed_mount(format!(
            "MountVolume.MountDevice failed for volume \"{pv_name}\" : kubernetes.io/csi: attacher.MountDevice failed \
             to create newCsiDriverClient: driver name {driver} not found in the list of registered CSI drivers"
        )));
    }
    let handle = csi["volumeHandle"].as_str().unwrap_or_default();
    let attach_free = store
        .get(&ObjectKey::new(Kind::CsiDriver, "", EFS_DRIVER))
        .is_some_and(|d| d["spec"]["attachRequired"] == false);
    if !attach_free {
        return Err(MountFailure {
            reason: "FailedAttachVolume",
            message: format!(
                "AttachVolume.Attach failed for volume \"{pv_name}\" : timed out waiting for external-attacher of \
                 {EFS_DRIVER} CSI driver to attach volume {handle} (create CSIDriver {EFS_DRIVER} with attachRequired: false)"
            ),
        });
    }
    parse_volume_handle(handle).map_err(|problem| {
        failed_mount(format!(
            "MountVolume.SetUp failed for volume \"{pv_name}\" : rpc error: code = InvalidArgument desc = {problem}"
        ))
    })?;
    let tls = csi["volumeAttributes"]["encryptInTransit"].as_str() != Some("false");
    Ok((handle.to_string(), tls))
}

/// The tree, the directory of it the volume shows, and who operates on it.
fn efs_volume(
    file_systems: &FileSystems,
    efs: &EfsFacts,
    handle: &str,
    secure_transport: bool,
    user: Identity,
) -> Result<(SharedTree, String, Identity), MountFailure> {
    let (file_system, path, access_point) = parse_volume_handle(handle).map_err(failed_mount)?;
    let ap = match access_point {
        None => None,
        Some(access_point) => Some(
            efs.access_points
                .get(access_point)
                .filter(|ap| ap.file_system_id == file_system)
                .ok_or_else(|| {
                    failed_mount(format!(
                        "MountVolume.SetUp failed for volume with handle {handle} : mount.nfs4: access denied by server: \
                         access point {access_point} of file system {file_system} not found"
                    ))
                })?,
        ),
    };
    // Fargate mounts through a mount target, as an anonymous client.
    let request = ClientRequest {
        secure_transport,
        via_mount_target: true,
        access_point_arn: ap.map(|ap| ap.arn.as_str()),
    };
    let policy = efs.policies.get(file_system);
    efs_policy::allows(policy, "elasticfilesystem:ClientMount", &request).map_err(|why| {
        failed_mount(format!(
            "MountVolume.SetUp failed for volume with handle {handle} : mount.nfs4: access denied by server while \
             mounting 127.0.0.1:/ (the file system policy: {why})"
        ))
    })?;
    let tree = file_systems.get_or_create(file_system);
    let Some(ap) = ap else {
        let squashed = efs_policy::allows(policy, "elasticfilesystem:ClientRootAccess", &request).is_err();
        let who = if user.uid == 0 && squashed {
            Identity::NOBODY
        } else {
            user
        };
        return Ok((tree, normalize(path), who));
    };
    let root = normalize(&format!("{}/{path}", ap.root_directory));
    if let Some(creation) = ap.creation {
        tree.lock().make_dir_owned(&ap.root_directory, creation);
    }
    Ok((tree, root, ap.user))
}

/// `fs-…`, `fs-…:/path`, `fs-…::fsap-…`, `fs-…:/path:fsap-…` (Fargate rejects the driver v3
/// `efs:` form): the file system, the path (below the access point's root), the access point.
pub fn parse_volume_handle(handle: &str) -> Result<(&str, &str, Option<&str>), String> {
    let mut parts = handle.split(':');
    let file_system = parts.next().unwrap_or_default();
    let path = parts.next().filter(|p| !p.is_empty()).unwrap_or("/");
    let access_point = parts.clone().next().filter(|p| !p.is_empty());
    let well_formed = file_system
        .strip_prefix("fs-")
        .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()))
        && parts.clone().count() <= 1;
    if !well_formed {
        return Err(format!(
            "volume ID '{handle}' is invalid: Expected a file system ID of the form 'fs-...'"
        ));
    }
    Ok((file_system, path, access_point))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_handles() {
        assert_eq!(parse_volume_handle("fs-0123abcd"), Ok(("fs-0123abcd", "/", None)));
        assert_eq!(parse_volume_handle("fs-1:/sub"), Ok(("fs-1", "/sub", None)));
        assert_eq!(parse_volume_handle("fs-1::fsap-2"), Ok(("fs-1", "/", Some("fsap-2"))));
        assert_eq!(
            parse_volume_handle("efs:fs-1"),
            Err("volume ID 'efs:fs-1' is invalid: Expected a file system ID of the form 'fs-...'".to_string())
        );
        assert!(parse_volume_handle("fs-").is_err());
    }
}
