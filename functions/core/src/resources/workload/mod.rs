//! The PoC app's and the validation's objects (epic04, epic05): the static PVs on the namespace's
//! access point, their claims, the pods and the validation's record ConfigMap. Built by
//! `manifests.rs`, converged by `volumes.rs` and the steps, each recorded by uid; removed here, and
//! only as the ledger records them.

pub mod manifests;
pub mod volumes;

use crate::error::Result;
use crate::k8s::{Kube, describe};
use crate::ledger::NamespaceView;
use crate::ownership::Owner;
use crate::resources::kube_object::{self, Sweep};
use crate::resources::{Kind, NOT_RECORDED, Removal};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::ListParams;

/// A file system seen through the namespace's access point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EfsVolume<'a> {
    pub file_system_id: &'a str,
    pub access_point_id: &'a str,
}

impl EfsVolume<'_> {
    /// `fs-…::fsap-…`: the plain form Fargate accepts (it rejects the `efs:` prefix).
    pub fn handle(&self) -> String {
        format!("{}::{}", self.file_system_id, self.access_point_id)
    }
}

/// The namespace's pods, the validation record, the claims, then the volumes; volumes that carry
/// the namespace's labels but are not recorded are reported and left.
pub async fn remove(sweep: &Sweep<'_>) -> Result<Removal> {
    let (kube, namespace) = (sweep.kube, &sweep.owner.namespace);
    let removal = sweep.remove_kind(Kind::Pod, &kube.namespaced::<Pod>(namespace)).await?;
    let removal = removal.and(
        sweep
            .remove_kind(Kind::ConfigMap, &kube.namespaced::<ConfigMap>(namespace))
            .await?,
    );
    let removal = removal.and(
        sweep
            .remove_kind(
                Kind::PersistentVolumeClaim,
                &kube.namespaced::<PersistentVolumeClaim>(namespace),
            )
            .await?,
    );
    let removal = removal.and(
        sweep
            .remove_kind(Kind::PersistentVolume, &kube.all::<PersistentVolume>())
            .await?,
    );
    Ok(removal.and(unrecorded_volumes(kube, sweep.owner, sweep.view).await?))
}

/// Persistent volumes labelled as the namespace's that the ledger does not record: reported, left.
async fn unrecorded_volumes(kube: &Kube, owner: &Owner, view: &NamespaceView) -> Result<Removal> {
    let selector = ListParams::default().labels(&owner.label_selector());
    let mut removal = Removal::done();
    for volume in kube.list(&kube.all::<PersistentVolume>(), &selector).await? {
        let name = volume.metadata.name.as_deref().unwrap_or_default();
        let recorded = view
            .find(Kind::PersistentVolume, name)
            .is_some_and(|r| kube_object::is_recorded(r, &volume));
        if !recorded {
            removal = removal.kept(describe(&volume), NOT_RECORDED);
        }
    }
    Ok(removal)
}
