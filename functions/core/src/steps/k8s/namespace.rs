//! epic01 (Kubernetes part): the run's namespace, created when missing and labelled as ours. A
//! namespace that existed without our labels is a conflict unless the input adopts it; an adopted
//! one is used as it is and never deleted by cleanup.

use super::Kube;
use super::rbac::RbacState;
use crate::error::{Result, WorkflowError};
use crate::input::Adoptable;
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

pub async fn ensure_namespace(kube: &Kube, run: &Run, rbac: RbacState) -> Result<NamespaceOutput> {
    let api = kube.all::<Namespace>();
    let name = &run.request.namespace;
    if let Some(existing) = kube.get(&api, name).await? {
        if !run.owner().owns_labels(existing.metadata.labels.as_ref()) && !run.request.adopts(Adoptable::Namespace) {
            return Err(WorkflowError::NamespaceConflict {
                cluster: run.request.cluster_name.clone(),
                namespace: name.clone(),
            });
        }
        if existing.metadata.deletion_timestamp.is_some() {
            return Err(WorkflowError::DependencyNotReady {
                resource: format!("namespace {name}"),
                message: "it is still being deleted (by an earlier cleanup?)".into(),
            });
        }
        return Ok(NamespaceOutput {
            name: name.clone(),
            created: false,
            rbac,
            bootstrap_granted: false,
        });
    }
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(run.owner().labels(&run.run_id, run.expires_at.as_deref())),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let created = kube.create_if_missing(&api, &namespace).await?;
    if created {
        tracing::info!(namespace = %name, "namespace created");
    }
    Ok(NamespaceOutput {
        name: name.clone(),
        created,
        rbac,
        bootstrap_granted: false,
    })
}
