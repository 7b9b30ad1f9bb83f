//! epic01 (Kubernetes part): the run's namespace, created when missing and recorded in the
//! ledger by its uid, with the workflow's RoleBinding in it (`namespace_access`). A namespace the
//! ledger does not record is a conflict unless the input adopts it; an adopted one is used as it
//! is, never recorded, never deleted by cleanup (which reports it as kept), and must carry the
//! workflow's label, which the admission policy requires and only a person can add.

use super::rbac::RbacState;
use crate::error::{Result, WorkflowError};
use crate::input::Adoptable;
use crate::k8s::Kube;
use crate::ledger::Ledger;
use crate::ownership::{MANAGED_BY_KEY, MANAGED_BY_VALUE, Owner};
use crate::resources::kube_object::{self, Origin, Sweep, unrecorded};
use crate::resources::namespace_access;
use crate::resources::{Kind, Recorder, Removal};
use crate::run::Run;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::ObjectMeta;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceOutput {
    pub name: String,
    /// True when this call created the namespace (false when it was found, or not reached).
    pub created: bool,
    /// The workflow's RBAC on the cluster, checked first: the state machine grants (and then
    /// revokes) the bootstrap access on `bootstrapRequired` (the namespace is not touched then),
    /// and revokes it after `installed`.
    pub rbac: RbacState,
    /// Whether the bootstrap grant is associated now: the state machine revokes it whenever it
    /// is, so a grant left by a run stopped half-way does not outlive the next run.
    #[serde(default)]
    pub bootstrap_granted: bool,
}

pub async fn ensure_namespace(
    kube: &Kube,
    recorder: Recorder<'_>,
    run: &Run,
    rbac: RbacState,
) -> Result<NamespaceOutput> {
    let api = kube.all::<Namespace>();
    let name = &run.request.namespace;
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(run.labels()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let origin = kube_object::ensure(kube, recorder, recorder.namespace(), Kind::Namespace, &api, &namespace).await?;
    if origin == Origin::Existing && !run.request.adopts(Adoptable::Namespace) {
        return Err(WorkflowError::NamespaceConflict {
            cluster: run.request.cluster_name.clone(),
            namespace: name.clone(),
        });
    }
    if origin == Origin::Existing && !admits_workflow(kube.get(&api, name).await?.as_ref()) {
        return Err(not_admitted(&run.request.cluster_name, name));
    }
    if origin != Origin::Created
        && kube
            .get(&api, name)
            .await?
            .is_some_and(|found| found.metadata.deletion_timestamp.is_some())
    {
        return Err(WorkflowError::DependencyNotReady {
            resource: format!("namespace {name}"),
            message: "it is still being deleted (by an earlier cleanup?)".into(),
        });
    }
    if origin == Origin::Created {
        tracing::info!(namespace = %name, "namespace created");
    }
    namespace_access::ensure(kube, recorder, recorder.namespace(), Kind::NamespaceAccess, run, name).await?;
    Ok(NamespaceOutput {
        name: name.clone(),
        created: origin == Origin::Created,
        rbac,
        bootstrap_granted: false,
    })
}

/// An adopted namespace the admission policy would keep the workflow out of.
pub fn not_admitted(cluster: &str, namespace: &str) -> WorkflowError {
    WorkflowError::NamespaceNotAdmitted {
        cluster: cluster.to_string(),
        namespace: namespace.to_string(),
        label: format!("{MANAGED_BY_KEY}={MANAGED_BY_VALUE}"),
    }
}

/// The admission policy's test: the namespace carries the workflow's label.
pub fn admits_workflow(namespace: Option<&Namespace>) -> bool {
    namespace
        .and_then(|n| n.metadata.labels.as_ref())
        .and_then(|labels| labels.get(MANAGED_BY_KEY))
        .is_some_and(|value| value == MANAGED_BY_VALUE)
}

/// Deletes the workflow's RoleBinding, then the namespace when the ledger records it (the caller
/// removed what was in it first); one that exists unrecorded is reported as kept.
pub async fn remove(sweep: &Sweep<'_>) -> Result<Removal> {
    let removal = namespace_access::remove_from(sweep).await?;
    let removal = removal.and(
        sweep
            .remove_kind(Kind::Namespace, &sweep.kube.all::<Namespace>())
            .await?,
    );
    Ok(removal.and(kept_unrecorded(sweep.kube, sweep.ledger, sweep.owner).await?))
}

/// The namespace, when it exists and the ledger does not record it: reported as kept.
pub async fn kept_unrecorded(kube: &Kube, ledger: &Ledger, owner: &Owner) -> Result<Removal> {
    let place = owner.place();
    unrecorded(
        kube,
        ledger,
        place,
        Kind::Namespace,
        &kube.all::<Namespace>(),
        &owner.namespace,
    )
    .await
}
