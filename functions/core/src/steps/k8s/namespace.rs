//! epic01 (Kubernetes part): the run's namespace, created when missing and labelled as ours. A
//! namespace that existed without our labels is a conflict unless the input adopts it; an adopted
//! one is used as it is and never deleted by cleanup.

use super::Kube;
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
    /// True when this call created the namespace (false when it was found).
    pub created: bool,
}

pub async fn ensure_namespace(kube: &Kube, run: &Run) -> Result<NamespaceOutput> {
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
    })
}
