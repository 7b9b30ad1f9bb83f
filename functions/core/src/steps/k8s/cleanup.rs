//! epic06 (Kubernetes part): deletes what the workflow created in one namespace of a cluster,
//! found by its labels. Namespaced objects and PVs first, then, once they are gone, the shared
//! StorageClass and CSIDriver (only if the workflow created them and no other PV still uses
//! them: the last namespace to leave removes them), Fargate's logging configuration likewise
//! (`logging.rs`), then the namespace if the workflow created it.
//! In a rollback ([`Scope::Run`]) only objects labelled with that run's id are deleted.

use super::logging;
use super::storage::{CSI_DRIVER, STORAGE_CLASS};
use super::{Kube, describe};
use crate::error::Result;
use crate::ownership::{Owner, Scope, kept};
use crate::steps::insights;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::{CSIDriver, StorageClass};
use kube::Resource;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// What one call did: `done` once nothing of ours is left.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: bool,
    pub removed: Vec<String>,
    pub kept: Vec<String>,
}

pub async fn remove(kube: &Kube, owner: &Owner, scope: &Scope) -> Result<Progress> {
    let mut progress = Progress::default();
    let selector = ListParams::default().labels(&scope.label_selector(owner));
    let namespace = &owner.namespace;
    // The collector first: its Deployment would start a deleted collector pod again.
    let mut left = insights::remove_collector(kube, owner, scope, &mut progress).await?;
    left += remove_listed(kube, &kube.namespaced::<Pod>(namespace), &selector, &mut progress).await?;
    left += remove_listed(kube, &kube.namespaced::<ConfigMap>(namespace), &selector, &mut progress).await?;
    left += remove_listed(
        kube,
        &kube.namespaced::<PersistentVolumeClaim>(namespace),
        &selector,
        &mut progress,
    )
    .await?;
    left += remove_listed(kube, &kube.all::<PersistentVolume>(), &selector, &mut progress).await?;
    if left > 0 {
        return Ok(progress);
    }
    let volumes = kube
        .list(&kube.all::<PersistentVolume>(), &ListParams::default())
        .await?;
    let class_in_use = volumes
        .iter()
        .filter_map(|v| v.spec.as_ref())
        .any(|s| s.storage_class_name.as_deref() == Some(STORAGE_CLASS));
    let driver_in_use = volumes
        .iter()
        .filter_map(|v| v.spec.as_ref()?.csi.as_ref())
        .any(|c| c.driver == CSI_DRIVER);
    let used = |in_use: bool| in_use.then(|| "still used by a persistent volume".to_string());
    let classes = kube.all::<StorageClass>();
    remove_shared(
        kube,
        owner,
        scope,
        &classes,
        STORAGE_CLASS,
        used(class_in_use),
        &mut progress,
    )
    .await?;
    let drivers = kube.all::<CSIDriver>();
    remove_shared(
        kube,
        owner,
        scope,
        &drivers,
        CSI_DRIVER,
        used(driver_in_use),
        &mut progress,
    )
    .await?;
    logging::remove(kube, owner, scope, &mut progress).await?;
    let namespaces = kube.all::<Namespace>();
    let Some(found) = kube.get(&namespaces, namespace).await? else {
        progress.done = true;
        return Ok(progress);
    };
    let labels = found.metadata.labels.as_ref();
    let why_kept = if owner.owns_labels(labels) {
        scope.keeps_labels(labels)
    } else {
        Some("not created by the workflow".to_string())
    };
    match why_kept {
        None => {
            if found.metadata.deletion_timestamp.is_none() && kube.delete(&namespaces, namespace).await? {
                progress.removed.push(describe(&found));
            }
        }
        Some(why) => {
            progress.kept.push(kept(describe(&found), why));
            progress.done = true;
        }
    }
    Ok(progress)
}

/// Deletes every listed object (all carry our labels); returns how many still exist.
pub(crate) async fn remove_listed<K>(
    kube: &Kube,
    api: &Api<K>,
    selector: &ListParams,
    progress: &mut Progress,
) -> Result<usize>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let found = kube.list(api, selector).await?;
    for object in found.iter().filter(|o| o.meta().deletion_timestamp.is_none()) {
        if kube
            .delete(api, object.meta().name.as_deref().unwrap_or_default())
            .await?
        {
            progress.removed.push(describe(object));
        }
    }
    Ok(found.len())
}

/// Deletes an object shared by the namespaces of a cluster when the workflow created it on this
/// cluster (in a rollback: in that run) and nothing uses it any more (`in_use` says why it is still
/// needed); anything else is kept.
pub(super) async fn remove_shared<K>(
    kube: &Kube,
    owner: &Owner,
    scope: &Scope,
    api: &Api<K>,
    name: &str,
    in_use: Option<String>,
    progress: &mut Progress,
) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let Some(found) = kube.get(api, name).await? else {
        return Ok(());
    };
    let labels = found.meta().labels.as_ref();
    let why_kept = if !owner.created_on_cluster(labels) {
        Some("not created by the workflow".to_string())
    } else {
        in_use.or_else(|| scope.keeps_labels(labels))
    };
    match why_kept {
        Some(why) => progress.kept.push(kept(describe(&found), why)),
        None => {
            if found.meta().deletion_timestamp.is_none() && kube.delete(api, name).await? {
                progress.removed.push(describe(&found));
            }
        }
    }
    Ok(())
}
