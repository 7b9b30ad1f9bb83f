//! epic03: the cluster-wide objects static EFS volumes need. `CSIDriver efs.csi.aws.com` with
//! `attachRequired: false` (without it Kubernetes waits for an attacher that Fargate does not run)
//! and StorageClass `efs-sc`, the class the PVs and PVCs bind through. Both are shared by every
//! namespace on the cluster, and EKS may ship the CSIDriver itself: each is created only when
//! missing, recorded in the cluster's part of the ledger when we create it, and never changed.
//! Removed only by the last namespace of ours to leave the cluster (`steps::cleanup`), and let go
//! of (not deleted) while volumes the workflow did not make still use them.

use crate::error::Result;
use crate::k8s::{Kube, describe};
use crate::ledger::{Ledger, Place};
use crate::resources::kube_object::{self, Origin, unrecorded};
use crate::resources::{Kind, Recorder, Removal};
use crate::run::Run;
use k8s_openapi::api::core::v1::PersistentVolume;
use k8s_openapi::api::storage::v1::{CSIDriver, CSIDriverSpec, StorageClass};
use kube::api::{Api, ListParams, ObjectMeta};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

pub const CSI_DRIVER: &str = "efs.csi.aws.com";
pub const STORAGE_CLASS: &str = "efs-sc";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedObject {
    pub name: String,
    pub origin: Origin,
}

/// The CSIDriver and the StorageClass, as [`ensure`] found or made them.
pub struct StorageObjects {
    pub csi_driver: SharedObject,
    pub storage_class: SharedObject,
}

pub async fn ensure(kube: &Kube, recorder: Recorder<'_>, run: &Run) -> Result<StorageObjects> {
    let metadata = |name: &str| ObjectMeta {
        name: Some(name.into()),
        labels: Some(run.labels()),
        ..ObjectMeta::default()
    };
    let driver = CSIDriver {
        metadata: metadata(CSI_DRIVER),
        spec: CSIDriverSpec {
            attach_required: Some(false),
            ..CSIDriverSpec::default()
        },
    };
    // No `parameters`: the PVs are static and name their file system themselves, and a class
    // shared by every namespace must not name one run's file system.
    let class = StorageClass {
        metadata: metadata(STORAGE_CLASS),
        provisioner: CSI_DRIVER.into(),
        ..StorageClass::default()
    };
    Ok(StorageObjects {
        csi_driver: ensure_shared(kube, recorder, Kind::CsiDriver, &kube.all(), &driver).await?,
        storage_class: ensure_shared(kube, recorder, Kind::StorageClass, &kube.all(), &class).await?,
    })
}

/// The CSIDriver and StorageClass found on the cluster that the ledger does not record: reported
/// as kept, every time a cleanup looks.
pub async fn kept_unrecorded(kube: &Kube, ledger: &Ledger, cluster: &str) -> Result<Removal> {
    let place = Place::Cluster(cluster);
    let class = unrecorded(
        kube,
        ledger,
        place,
        Kind::StorageClass,
        &kube.all::<StorageClass>(),
        STORAGE_CLASS,
    )
    .await?;
    Ok(class.and(
        unrecorded(
            kube,
            ledger,
            place,
            Kind::CsiDriver,
            &kube.all::<CSIDriver>(),
            CSI_DRIVER,
        )
        .await?,
    ))
}

/// Deletes the recorded CSIDriver and StorageClass (the caller has decided no namespace of ours
/// needs them); one that volumes the workflow did not make still use is let go of instead.
pub async fn remove(kube: &Kube, ledger: &Ledger, cluster: &str) -> Result<Removal> {
    let volumes = kube
        .list(&kube.all::<PersistentVolume>(), &ListParams::default())
        .await?;
    let class_users = volumes
        .iter()
        .filter(|v| v.spec.as_ref().and_then(|s| s.storage_class_name.as_deref()) == Some(STORAGE_CLASS))
        .map(describe)
        .collect::<Vec<_>>();
    let driver_users = volumes
        .iter()
        .filter(|v| {
            v.spec
                .as_ref()
                .and_then(|s| s.csi.as_ref())
                .is_some_and(|c| c.driver == CSI_DRIVER)
        })
        .map(describe)
        .collect::<Vec<_>>();
    let class = remove_one(
        kube,
        ledger,
        cluster,
        Kind::StorageClass,
        STORAGE_CLASS,
        &kube.all::<StorageClass>(),
        class_users,
    )
    .await?;
    Ok(class.and(
        remove_one(
            kube,
            ledger,
            cluster,
            Kind::CsiDriver,
            CSI_DRIVER,
            &kube.all::<CSIDriver>(),
            driver_users,
        )
        .await?,
    ))
}

/// Deletes one recorded shared object, unless volumes the workflow did not make still use it: then
/// the workflow lets go of it (its record goes, the object stays for those volumes' owners).
async fn remove_one<K>(
    kube: &Kube,
    ledger: &Ledger,
    cluster: &str,
    kind: Kind,
    name: &str,
    api: &Api<K>,
    users: Vec<String>,
) -> Result<Removal>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let place = Place::Cluster(cluster);
    let Some(record) = ledger.get(place, kind, name).await? else {
        return Ok(Removal::done());
    };
    if !users.is_empty() {
        ledger.forget(place, kind, name).await?;
        return Ok(Removal::done().kept(
            format!("{} {name}", kind.as_str()),
            format!(
                "still used by {}; left in place and no longer the workflow's",
                users.join(", ")
            ),
        ));
    }
    Ok(match kube_object::delete(kube, ledger, place, &record, api).await? {
        Some(deleting) => Removal::pending().removed(deleting),
        None => Removal::done(),
    })
}

/// Creates a shared object when missing, recorded in the cluster's part of the ledger; one found
/// is never changed.
pub(crate) async fn ensure_shared<K>(
    kube: &Kube,
    recorder: Recorder<'_>,
    kind: Kind,
    api: &Api<K>,
    object: &K,
) -> Result<SharedObject>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
{
    let name = object.name_any();
    let origin = kube_object::ensure(kube, recorder, recorder.cluster(), kind, api, object).await?;
    tracing::info!(kind = K::kind(&()).as_ref(), %name, ?origin, "shared object ensured");
    Ok(SharedObject { name, origin })
}
