//! The workflow's rights inside one namespace: a RoleBinding of the group to the namespace role
//! (see `rbac`), created by the workflow in each namespace it provisions (and in Fargate's logging
//! namespace when it made that one), so its standing cluster-wide rights hold nothing namespaced
//! beyond what creating the binding takes. Recorded in the ledger like every object; it goes with
//! a namespace the workflow deletes, and is deleted last from one it keeps.

use super::rbac::{GROUP, NAME, NAMESPACE_ROLE};
use crate::error::Result;
use crate::k8s::{Kube, metadata};
use crate::ledger::{Ledger, Place};
use crate::resources::kube_object::{self, Sweep};
use crate::resources::{Kind, Recorder, Removal};
use crate::run::Run;
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};

fn role_binding(run: &Run, namespace: &str) -> RoleBinding {
    RoleBinding {
        metadata: metadata(run, NAME, Some(namespace)),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: NAMESPACE_ROLE.into(),
        },
        subjects: Some(vec![Subject {
            kind: "Group".into(),
            name: GROUP.into(),
            api_group: Some("rbac.authorization.k8s.io".into()),
            namespace: None,
        }]),
    }
}

/// Binds the group in `namespace`, recorded as `kind` in `place`: created once, never changed
/// (a binding's role cannot change, and its subject is the policy's to keep).
pub async fn ensure(
    kube: &Kube,
    recorder: Recorder<'_>,
    place: Place<'_>,
    kind: Kind,
    run: &Run,
    namespace: &str,
) -> Result<()> {
    let api = kube.namespaced::<RoleBinding>(namespace);
    kube_object::ensure_ours(kube, recorder, place, kind, &api, &role_binding(run, namespace)).await?;
    Ok(())
}

/// Deletes the recorded binding in `namespace` and forgets it (a binding has no finalizer: it is
/// gone once deleted). The caller is done with the namespace: no namespaced call follows.
pub async fn remove(kube: &Kube, ledger: &Ledger, place: Place<'_>, kind: Kind, namespace: &str) -> Result<Removal> {
    let Some(record) = ledger.get(place, kind, NAME).await? else {
        return Ok(Removal::done());
    };
    let api = kube.namespaced::<RoleBinding>(namespace);
    let deleted = kube_object::delete(kube, ledger, place, &record, &api).await?;
    if deleted.is_some() {
        // Looked at again: gone now, so the record goes too.
        kube_object::delete(kube, ledger, place, &record, &api).await?;
    }
    Ok(match deleted {
        Some(what) => Removal::done().removed(what),
        None => Removal::done(),
    })
}

/// [`remove`] for a namespace's cleanup, when the sweep may remove the binding (in a rollback:
/// its run's).
pub async fn remove_from(sweep: &Sweep<'_>) -> Result<Removal> {
    let place = sweep.owner.place();
    if let Some(why) = sweep
        .view
        .of_kind(Kind::NamespaceAccess)
        .find_map(|r| sweep.scope.keeps(r))
    {
        return Ok(Removal::done().kept(format!("rolebinding/{}/{NAME}", sweep.owner.namespace), why));
    }
    remove(
        sweep.kube,
        sweep.ledger,
        place,
        Kind::NamespaceAccess,
        &sweep.owner.namespace,
    )
    .await
}
