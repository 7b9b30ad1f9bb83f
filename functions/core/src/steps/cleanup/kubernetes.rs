//! The `kubernetes` cleanup action: the namespace's recorded Kubernetes objects, then, when the
//! ledger shows no other namespace of this deployment on the cluster (decided under the cluster's
//! lease, which this cleanup then keeps until `finish`), the objects the namespaces share, the
//! workflow's own RBAC last of all (deleting it ends the workflow's rights there). Nothing is
//! looked up in a cluster the ledger records nothing of ours on, and a cluster that is gone took
//! its objects with it.

use aws_sdk_eks::types::ClusterStatus;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::{CSIDriver, StorageClass};
use kube::api::ListParams;

use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::lease::Acquire;
use crate::ledger::{ClusterView, Ledger, NamespaceView, Place};
use crate::ownership::Owner;
use crate::resources::collector::remove_collector;
use crate::resources::kube_object::{self, remove_kind};
use crate::resources::{CleanupScope, Kind, NOT_RECORDED, Removal, shared};
use crate::settings::Settings;
use crate::steps::cluster_lease;
use crate::steps::k8s::storage::{CSI_DRIVER, STORAGE_CLASS};
use crate::steps::k8s::{Kube, describe, logging, rbac};

/// The cleanup's view: what it may touch, and where.
pub struct Context<'a> {
    pub clients: &'a AwsClients,
    pub settings: &'a Settings,
    pub ledger: &'a Ledger,
    pub owner: &'a Owner,
    pub view: &'a NamespaceView,
    pub scope: &'a CleanupScope,
    /// The cleanup execution: the holder of the cluster's lease.
    pub holder: &'a str,
}

pub async fn remove(cx: &Context<'_>) -> Result<Removal> {
    let cluster_view = cx.ledger.cluster(&cx.owner.cluster).await?;
    let own = cx.view.records.iter().any(|r| r.kind.is_namespaced_kubernetes());
    let shared_left = cluster_view.shared.iter().any(|r| r.kind.is_shared_kubernetes());
    if !own && !shared_left {
        return Ok(Removal::done());
    }
    let cluster = match aws::eks::cluster(&cx.clients.eks, &cx.owner.cluster).await {
        Err(WorkflowError::ClusterNotFound { .. }) => return forget_cluster_objects(cx, &cluster_view).await,
        Ok(cluster) if cluster.status() == Some(&ClusterStatus::Deleting) => {
            return Ok(Removal::pending().kept(
                format!("Kubernetes objects on cluster {}", cx.owner.cluster),
                "the cluster is being deleted and takes them with it",
            ));
        }
        other => other?,
    };
    let kube = Kube::connect_to(cx.clients, cx.settings, &cluster).await?;
    let removal = own_objects(&kube, cx).await?;
    if !removal.done {
        return Ok(removal);
    }
    Ok(removal.and(shared_objects(&kube, cx).await?))
}

/// The namespace's own objects, the namespace itself last; objects that carry our labels but are
/// not recorded are reported and left.
async fn own_objects(kube: &Kube, cx: &Context<'_>) -> Result<Removal> {
    let (ledger, owner, view, scope) = (cx.ledger, cx.owner, cx.view, cx.scope);
    let namespace = &owner.namespace;
    let mut removal = remove_collector(kube, ledger, owner, view, scope).await?;
    removal = removal.and(
        remove_kind(
            kube,
            ledger,
            owner,
            view,
            scope,
            Kind::Pod,
            &kube.namespaced::<Pod>(namespace),
        )
        .await?,
    );
    removal = removal.and(
        remove_kind(
            kube,
            ledger,
            owner,
            view,
            scope,
            Kind::ConfigMap,
            &kube.namespaced::<ConfigMap>(namespace),
        )
        .await?,
    );
    removal = removal.and(
        remove_kind(
            kube,
            ledger,
            owner,
            view,
            scope,
            Kind::PersistentVolumeClaim,
            &kube.namespaced::<PersistentVolumeClaim>(namespace),
        )
        .await?,
    );
    removal = removal.and(
        remove_kind(
            kube,
            ledger,
            owner,
            view,
            scope,
            Kind::PersistentVolume,
            &kube.all::<PersistentVolume>(),
        )
        .await?,
    );
    removal = removal.and(unrecorded_volumes(kube, owner, view).await?);
    if !removal.done {
        return Ok(removal);
    }
    let namespaces = kube.all::<Namespace>();
    let removal = removal.and(remove_kind(kube, ledger, owner, view, scope, Kind::Namespace, &namespaces).await?);
    let place = Place::Namespace {
        cluster: &owner.cluster,
        namespace,
    };
    Ok(removal.and(unrecorded(kube, ledger, place, Kind::Namespace, &namespaces, namespace).await?))
}

/// The object of `name` when it exists but the ledger does not record it (adopted, or not created
/// by the workflow): reported as kept, never touched.
async fn unrecorded<K>(
    kube: &Kube,
    ledger: &Ledger,
    place: Place<'_>,
    kind: Kind,
    api: &kube::Api<K>,
    name: &str,
) -> Result<Removal>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let Some(found) = kube.get(api, name).await? else {
        return Ok(Removal::done());
    };
    let recorded = ledger
        .get(place, kind, name)
        .await?
        .is_some_and(|record| kube_object::is_recorded(&record, &found));
    Ok(if recorded {
        Removal::done()
    } else {
        Removal::done().kept(describe(&found), NOT_RECORDED)
    })
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

/// What the cluster's namespaces share, once no other namespace of this deployment needs it:
/// decided and removed under the cluster's lease, which this cleanup keeps (`finish` releases it),
/// so no provisioning run joins the cluster while its access is being taken away.
async fn shared_objects(kube: &Kube, cx: &Context<'_>) -> Result<Removal> {
    let cluster = &cx.owner.cluster;
    let place = Place::Cluster(cluster);
    // What stays because it is not ours, reported every time.
    let mut removal = unrecorded(
        kube,
        cx.ledger,
        place,
        Kind::StorageClass,
        &kube.all::<StorageClass>(),
        STORAGE_CLASS,
    )
    .await?;
    removal = removal.and(
        unrecorded(
            kube,
            cx.ledger,
            place,
            Kind::CsiDriver,
            &kube.all::<CSIDriver>(),
            CSI_DRIVER,
        )
        .await?,
    );
    let observability = kube.all::<Namespace>();
    removal = removal.and(
        unrecorded(
            kube,
            cx.ledger,
            place,
            Kind::LoggingNamespace,
            &observability,
            logging::NAMESPACE,
        )
        .await?,
    );
    let logging_config = kube.namespaced::<ConfigMap>(logging::NAMESPACE);
    removal = removal.and(
        unrecorded(
            kube,
            cx.ledger,
            place,
            Kind::LoggingConfig,
            &logging_config,
            logging::CONFIG_MAP,
        )
        .await?,
    );
    let view = cx.ledger.cluster(cluster).await?;
    if !view.shared.iter().any(|r| r.kind.is_shared_kubernetes()) {
        return Ok(removal);
    }
    if let Some(kept) = still_used(cx, &view).await? {
        return Ok(removal.and(kept));
    }
    if let Acquire::Held(held) =
        cluster_lease::acquire(cx.clients, cx.settings, cluster, cx.holder, "remove-shared").await?
    {
        return Ok(removal.and(Removal::pending().kept(
            format!("what the namespaces of cluster {cluster} share"),
            format!("waiting for {}, which holds the cluster's lease", held.holder),
        )));
    }
    // Again under the lease: a run may have joined since the first look.
    let view = cx.ledger.cluster(cluster).await?;
    if let Some(kept) = still_used(cx, &view).await? {
        cluster_lease::release(cx.clients, cx.settings, cluster, cx.holder).await?;
        return Ok(removal.and(kept));
    }
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
    removal = removal.and(
        remove_shared(
            kube,
            cx.ledger,
            cluster,
            Kind::StorageClass,
            &kube.all::<StorageClass>(),
            class_users,
        )
        .await?,
    );
    removal = removal.and(
        remove_shared(
            kube,
            cx.ledger,
            cluster,
            Kind::CsiDriver,
            &kube.all::<CSIDriver>(),
            driver_users,
        )
        .await?,
    );
    removal = removal.and(logging::remove(kube, cx.ledger, cluster).await?);
    if !removal.done {
        return Ok(removal);
    }
    Ok(removal.and(rbac::remove(kube, cx.ledger, cluster).await?))
}

/// Why the shared objects stay: another namespace of this deployment still needs them.
async fn still_used(cx: &Context<'_>, view: &ClusterView) -> Result<Option<Removal>> {
    let members = shared::members(&cx.clients.sfn, view, &cx.owner.namespace).await?;
    Ok((!members.is_empty()).then(|| {
        Removal::done().kept(
            format!("what the namespaces of cluster {} share", cx.owner.cluster),
            format!("still used by namespaces {}", members.join(", ")),
        )
    }))
}

/// Deletes a shared object the ledger records, unless volumes the workflow did not make still use
/// it: then the workflow lets go of it (its record goes, the object stays for those volumes' owners).
async fn remove_shared<K>(
    kube: &Kube,
    ledger: &Ledger,
    cluster: &str,
    kind: Kind,
    api: &kube::Api<K>,
    users: Vec<String>,
) -> Result<Removal>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let place = Place::Cluster(cluster);
    let name = match kind {
        Kind::StorageClass => STORAGE_CLASS,
        _ => CSI_DRIVER,
    };
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

/// A cluster that no longer exists took every object with it: their records go.
async fn forget_cluster_objects(cx: &Context<'_>, view: &ClusterView) -> Result<Removal> {
    for record in view.records.iter().filter(|r| r.kind.is_namespaced_kubernetes()) {
        cx.ledger.forget(record.place(), record.kind, &record.key).await?;
    }
    for record in view.shared.iter().filter(|r| r.kind.is_shared_kubernetes()) {
        cx.ledger.forget(record.place(), record.kind, &record.key).await?;
    }
    Ok(Removal::done())
}
