//! A static PV and its claim, converged: created (and recorded) when missing, checked when found,
//! and reported Bound or why not. Shared by the PoC app and the validation.

use super::EfsVolume;
use super::manifests::{self, VolumeNames};
use crate::error::{Result, WorkflowError};
use crate::k8s::pod_status;
use crate::resources::Kind;
use crate::resources::kube_object::Objects;
use crate::run::Run;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};

/// `None` once the claim is Bound, else what is still pending.
pub async fn ensure_bound(
    objects: Objects<'_>,
    run: &Run,
    names: VolumeNames,
    efs: EfsVolume<'_>,
) -> Result<Option<String>> {
    let kube = objects.kube;
    let volumes = kube.all::<PersistentVolume>();
    let volume_name = names.volume_name(&run.request.namespace);
    match objects.get(Kind::PersistentVolume, &volumes, &volume_name).await? {
        None => {
            objects
                .apply(
                    Kind::PersistentVolume,
                    &volumes,
                    &manifests::persistent_volume(run, names, efs),
                )
                .await?;
        }
        Some(volume) => {
            check_volume(&volume, run, names, efs)?;
            if volume.metadata.deletion_timestamp.is_some() {
                return Ok(Some(format!("volume {volume_name} is still being deleted")));
            }
            // Its claim was deleted (an interrupted validation): the stale claimRef uid would keep
            // a new claim from binding. Retain keeps the data; the next call recreates it.
            if volume.status.and_then(|s| s.phase).as_deref() == Some("Released") {
                objects.delete(Kind::PersistentVolume, &volumes, &volume_name).await?;
                return Ok(Some(format!(
                    "volume {volume_name} was released by an earlier claim; recreating it"
                )));
            }
        }
    }
    let namespace = &run.request.namespace;
    let claims = kube.namespaced::<PersistentVolumeClaim>(namespace);
    let claim = match objects.get(Kind::PersistentVolumeClaim, &claims, names.claim).await? {
        None => {
            objects
                .apply(Kind::PersistentVolumeClaim, &claims, &manifests::claim(run, names))
                .await?
        }
        Some(claim) => {
            let wanted = claim.spec.as_ref().and_then(|s| s.volume_name.as_deref());
            if wanted.is_some_and(|w| w != volume_name) {
                return Err(WorkflowError::PersistentVolumeConflict {
                    name: volume_name,
                    detail: format!(
                        "claim {namespace}/{} asks for volume {}",
                        names.claim,
                        wanted.unwrap_or_default()
                    ),
                });
            }
            claim
        }
    };
    if claim.metadata.deletion_timestamp.is_some() {
        return Ok(Some(format!("claim {} is still being deleted", names.claim)));
    }
    let phase = claim.status.and_then(|s| s.phase).unwrap_or_else(|| "Pending".into());
    if phase == "Bound" {
        return Ok(None);
    }
    let mut waiting = format!("claim {} is {phase}", names.claim);
    if let Some(event) = pod_status::warnings(kube, namespace, "PersistentVolumeClaim", names.claim)
        .await
        .last()
    {
        waiting.push_str(&format!("; last event: {event}"));
    }
    Ok(Some(waiting))
}

/// A PV's source and claim cannot change: ours must already point where this run needs it.
fn check_volume(volume: &PersistentVolume, run: &Run, names: VolumeNames, efs: EfsVolume<'_>) -> Result<()> {
    let spec = volume.spec.as_ref();
    let conflict = |detail: String| {
        Err(WorkflowError::PersistentVolumeConflict {
            name: names.volume_name(&run.request.namespace),
            detail,
        })
    };
    let handle = spec.and_then(|s| s.csi.as_ref()).map(|c| c.volume_handle.as_str());
    let wanted = efs.handle();
    if handle != Some(wanted.as_str()) {
        return conflict(format!(
            "it holds {}, not {wanted} (file system {} through the namespace's access point)",
            handle.unwrap_or("no EFS volume"),
            efs.file_system_id
        ));
    }
    let claim = spec.and_then(|s| s.claim_ref.as_ref());
    let bound_to = claim.map(|c| {
        (
            c.namespace.as_deref().unwrap_or_default(),
            c.name.as_deref().unwrap_or_default(),
        )
    });
    if bound_to.is_some_and(|bound| bound != (run.request.namespace.as_str(), names.claim)) {
        let (namespace, name) = bound_to.unwrap_or_default();
        return conflict(format!(
            "it is bound to claim {namespace}/{name}, not {}/{}",
            run.request.namespace, names.claim
        ));
    }
    Ok(())
}
