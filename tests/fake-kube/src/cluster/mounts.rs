//! What the kubelet mounts for a container: EFS volumes through PVC → PV → `csi` (driver
//! `efs.csi.aws.com`, handle `fs-…[:path[:fsap-…]]`) and `emptyDir`. Everything else fails to mount
//! with an event, as on Fargate.

use std::collections::HashMap;

use serde_json::Value;

use crate::kind::Kind;
use crate::shell::exec::Mount;
use crate::store::{ObjectKey, Store};
use crate::volumes::{FileSystems, SharedTree, normalize};

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
) -> Result<Vec<Mount>, MountFailure> {
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
        let (tree, root) = if let Some(tree) = empty_dirs.get(name) {
            (tree.clone(), "/".to_string())
        } else if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
            efs_volume(store, file_systems, pod, name, claim)?
        } else {
            return Err(failed_mount(format!(
                "the volume type of \"{name}\" is not emulated by fake-kube-apiserver (only PVCs of EFS PVs and emptyDir)"
            )));
        };
        mounts.push(Mount {
            path: normalize(volume_mount["mountPath"].as_str().unwrap_or_default()),
            tree,
            root,
        });
    }
    Ok(mounts)
}

fn efs_volume(
    store: &Store,
    file_systems: &FileSystems,
    pod: &Value,
    volume: &str,
    claim: &str,
) -> Result<(SharedTree, String), MountFailure> {
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
    let (file_system, path) = parse_volume_handle(handle).map_err(|problem| {
        failed_mount(format!(
            "MountVolume.SetUp failed for volume \"{pv_name}\" : rpc error: code = InvalidArgument desc = {problem}"
        ))
    })?;
    Ok((file_systems.get_or_create(file_system), normalize(path)))
}

/// `fs-…`, `fs-…:/path`, `fs-…::fsap-…`, `fs-…:/path:fsap-…` (Fargate rejects the driver v3
/// `efs:` form). The access point is not emulated: its volume shows the file system at `path`.
pub fn parse_volume_handle(handle: &str) -> Result<(&str, &str), String> {
    let mut parts = handle.split(':');
    let file_system = parts.next().unwrap_or_default();
    let path = parts.next().filter(|p| !p.is_empty()).unwrap_or("/");
    let well_formed = file_system
        .strip_prefix("fs-")
        .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()))
        && parts.clone().count() <= 1;
    if !well_formed {
        return Err(format!(
            "volume ID '{handle}' is invalid: Expected a file system ID of the form 'fs-...'"
        ));
    }
    Ok((file_system, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_handles() {
        assert_eq!(parse_volume_handle("fs-0123abcd"), Ok(("fs-0123abcd", "/")));
        assert_eq!(parse_volume_handle("fs-1:/sub"), Ok(("fs-1", "/sub")));
        assert_eq!(parse_volume_handle("fs-1::fsap-2"), Ok(("fs-1", "/")));
        assert_eq!(
            parse_volume_handle("efs:fs-1"),
            Err("volume ID 'efs:fs-1' is invalid: Expected a file system ID of the form 'fs-...'".to_string())
        );
        assert!(parse_volume_handle("fs-").is_err());
    }
}
