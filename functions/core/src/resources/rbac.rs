//! The workflow's own RBAC. The workflow's Kubernetes identity (the IAM role the Kubernetes steps
//! assume for their tokens) reaches the API through an access entry that carries only the group
//! [`GROUP`]. Two roles of ours hold exactly what the workflow does:
//!
//! - [`NAME`], bound cluster-wide, only what must be cluster-wide: namespaces, persistent
//!   volumes, storage classes and CSI drivers; creating a ConfigMap (Fargate's `aws-logging` may
//!   go into a logging namespace that is not ours) and reading or deleting that one by name;
//!   creating the RoleBinding [`NAME`] in a namespace and binding it only to [`NAMESPACE_ROLE`];
//!   reading and deleting its own role; the Container Insights collector's ClusterRoleBinding,
//!   which RBAC's escalation check lets it point only at [`COLLECTOR_READER`].
//! - [`NAMESPACE_ROLE`], bound by a RoleBinding in each namespace the workflow provisions
//!   (`namespace_access`, and in the collector's own namespace): pods, their logs, claims, config
//!   maps, events, service accounts and Deployments (the admission policy admits only the
//!   collector's, in its namespace). No secrets, no exec, anywhere.
//!
//! RBAC says which kinds; the admission policy installed with it (`admission_policy`) says which
//! objects, so the API server itself keeps the group to the namespaces and objects it labels.
//! Installing (or updating) them needs cluster-admin once per cluster: the state machine grants
//! it for that one step and revokes it right after (see `access.rs`).

use super::admission_policy;
use super::logging;
use crate::error::{Result, WorkflowError};
use crate::k8s::Kube;
use crate::ledger::{Ledger, Place};
use crate::resources::kube_object::{self, is_recorded};
use crate::resources::{Kind, Recorder, Removal};
use crate::run::Run;
use k8s_openapi::api::admissionregistration::v1::{ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use kube::api::ObjectMeta;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The Kubernetes group of the workflow's access entry, and the subject of its binding.
pub const GROUP: &str = "efs-fargate-workflow";
/// The name of the ClusterRole and of the ClusterRoleBinding.
pub const NAME: &str = "efs-fargate-workflow";
/// The namespaced rights, bound in each namespace the workflow provisions.
pub const NAMESPACE_ROLE: &str = "efs-fargate-workflow-namespace";
/// What the cluster's Container Insights collector is bound to: read the nodes and their
/// cAdvisor metrics through the API server's node proxy. Owned by our role, and goes with it.
pub const COLLECTOR_READER: &str = "efs-fargate-workflow-insights-reader";
/// Carries a hash of the rules, so an older workflow's RBAC is recognised and updated.
pub const VERSION_ANNOTATION: &str = "efs-fargate-workflow/rbac-version";

/// What [`ensure`] found or did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RbacState {
    /// Our RBAC, at this version, was there already.
    Current,
    /// This call installed or updated it (with the bootstrap grant): revoke that grant now.
    Installed,
    /// It is missing or outdated and the workflow may not write RBAC: grant the bootstrap access.
    BootstrapRequired,
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str], names: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(groups.iter().map(|g| g.to_string()).collect()),
        resources: Some(resources.iter().map(|r| r.to_string()).collect()),
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
        resource_names: (!names.is_empty()).then(|| names.iter().map(|n| n.to_string()).collect()),
        non_resource_urls: None,
    }
}

/// `create` next to `patch`: server-side apply of a missing object creates it.
const WRITE: [&str; 5] = ["get", "list", "create", "patch", "delete"];

/// The cluster-wide rules: what cannot be granted namespace by namespace.
fn rules() -> Vec<PolicyRule> {
    vec![
        rule(&[""], &["namespaces", "persistentvolumes"], &WRITE, &[]),
        rule(&["storage.k8s.io"], &["storageclasses", "csidrivers"], &WRITE, &[]),
        // Fargate's logging ConfigMap, in a logging namespace that may not be ours (a create
        // cannot be limited by name: the admission policy limits it).
        rule(&[""], &["configmaps"], &["create"], &[]),
        rule(
            &[""],
            &["configmaps"],
            &["get", "patch", "delete"],
            &[logging::CONFIG_MAP],
        ),
        // The RoleBinding of each new namespace (which holds no binding yet to read it through).
        rule(&["rbac.authorization.k8s.io"], &["rolebindings"], &["create"], &[]),
        rule(
            &["rbac.authorization.k8s.io"],
            &["rolebindings"],
            &["get", "delete"],
            &[NAME],
        ),
        // Its own objects only: to see their version, and for cleanup to delete the role (the
        // rest goes with it: it is owned by the role).
        rule(
            &["rbac.authorization.k8s.io"],
            &["clusterroles", "clusterrolebindings"],
            &["get", "delete"],
            &[NAME],
        ),
        // The collector's binding: created once (a binding's role never changes), never patched.
        rule(
            &["rbac.authorization.k8s.io"],
            &["clusterrolebindings"],
            &["get", "list", "create", "delete"],
            &[],
        ),
        rule(
            &["rbac.authorization.k8s.io"],
            &["clusterroles"],
            &["bind"],
            &[COLLECTOR_READER, NAMESPACE_ROLE],
        ),
    ]
}

/// The rules each namespace's RoleBinding grants.
fn namespace_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            &[""],
            &["pods", "persistentvolumeclaims", "configmaps", "serviceaccounts"],
            &WRITE,
            &[],
        ),
        rule(&["apps"], &["deployments"], &WRITE, &[]),
        rule(&[""], &["pods/log"], &["get"], &[]),
        rule(&[""], &["events"], &["list"], &[]),
    ]
}

/// The collector's rights: node discovery, and cAdvisor through the node proxy.
fn reader_rules() -> Vec<PolicyRule> {
    vec![
        PolicyRule {
            api_groups: Some(vec!["".into()]),
            resources: Some(vec!["nodes".into()]),
            verbs: vec!["get".into(), "list".into(), "watch".into()],
            ..PolicyRule::default()
        },
        PolicyRule {
            api_groups: Some(vec!["".into()]),
            resources: Some(vec!["nodes/proxy".into(), "nodes/metrics".into()]),
            verbs: vec!["get".into()],
            ..PolicyRule::default()
        },
    ]
}

/// A hash of the rules: changes whenever they do.
fn version() -> String {
    let rules = serde_json::to_vec(&(
        rules(),
        namespace_rules(),
        reader_rules(),
        admission_policy::fingerprint(),
    ))
    .expect("rules serialize");
    Sha256::digest(rules)
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn metadata(run: &Run) -> ObjectMeta {
    ObjectMeta {
        name: Some(NAME.into()),
        labels: Some(run.labels()),
        annotations: Some(BTreeMap::from([(VERSION_ANNOTATION.to_string(), version())])),
        ..ObjectMeta::default()
    }
}

/// Makes sure our RBAC is installed at this version, recorded in the cluster's part of the
/// ledger; [`RbacState::BootstrapRequired`] when it is not and the workflow may not write it.
pub async fn ensure(kube: &Kube, recorder: Recorder<'_>, run: &Run) -> Result<RbacState> {
    let roles = kube.all::<ClusterRole>();
    match kube.get(&roles, NAME).await {
        Ok(Some(role)) => {
            let record = recorder.ledger.get(recorder.cluster(), Kind::Rbac, NAME).await?;
            if !record.is_some_and(|r| is_recorded(&r, &role)) {
                return Err(WorkflowError::KubernetesObjectConflict {
                    object: format!("clusterrole/{NAME}"),
                });
            }
            let installed = role
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(VERSION_ANNOTATION));
            if installed == Some(&version()) {
                return Ok(RbacState::Current);
            }
        }
        Ok(None) => {}
        // The group has no rights yet: the RBAC is not there.
        Err(WorkflowError::ClusterAuthFailed { code: 403, .. }) => {}
        Err(other) => return Err(other),
    }
    match install(kube, recorder, run).await {
        Ok(()) => Ok(RbacState::Installed),
        Err(WorkflowError::ClusterAuthFailed { code: 403, .. }) => Ok(RbacState::BootstrapRequired),
        Err(other) => Err(other),
    }
}

async fn install(kube: &Kube, recorder: Recorder<'_>, run: &Run) -> Result<()> {
    let role = ClusterRole {
        metadata: metadata(run),
        rules: Some(rules()),
        aggregation_rule: None,
    };
    let role = kube_object::apply(
        kube,
        recorder,
        recorder.cluster(),
        Kind::Rbac,
        &kube.all::<ClusterRole>(),
        &role,
    )
    .await?;
    // Owned by the role: deleting the role (which the group may) removes these too.
    let owned = |name: &str| {
        let mut metadata = metadata(run);
        metadata.name = Some(name.into());
        metadata.owner_references = Some(vec![k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "rbac.authorization.k8s.io/v1".into(),
            kind: "ClusterRole".into(),
            name: NAME.into(),
            uid: role.metadata.uid.clone().unwrap_or_default(),
            ..Default::default()
        }]);
        metadata
    };
    for (name, rules) in [(COLLECTOR_READER, reader_rules()), (NAMESPACE_ROLE, namespace_rules())] {
        let role = ClusterRole {
            metadata: owned(name),
            rules: Some(rules),
            aggregation_rule: None,
        };
        kube.apply(&kube.all::<ClusterRole>(), &role).await?;
    }
    let binding = ClusterRoleBinding {
        metadata: owned(NAME),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: NAME.into(),
        },
        subjects: Some(vec![Subject {
            kind: "Group".into(),
            name: GROUP.into(),
            api_group: Some("rbac.authorization.k8s.io".into()),
            namespace: None,
        }]),
    };
    kube.apply(&kube.all::<ClusterRoleBinding>(), &binding).await?;
    // Last: the policy confines the group from here on.
    let policies = kube.all::<ValidatingAdmissionPolicy>();
    kube.apply(&policies, &admission_policy::policy(owned(admission_policy::POLICY)))
        .await?;
    let bindings = kube.all::<ValidatingAdmissionPolicyBinding>();
    kube.apply(&bindings, &admission_policy::binding(owned(admission_policy::POLICY)))
        .await?;
    tracing::info!(cluster = %kube.cluster, version = %version(), "workflow RBAC installed");
    Ok(())
}

/// Deletes our recorded ClusterRole (its binding, the namespace and reader roles and the
/// admission policy are owned by it and go with it), and forgets it at once: deleting it ends the workflow's rights on the cluster, so nothing
/// could look again. It is the last Kubernetes call of the cluster's last cleanup.
pub async fn remove(kube: &Kube, ledger: &Ledger, cluster: &str) -> Result<Removal> {
    let place = Place::Cluster(cluster);
    let Some(record) = ledger.get(place, Kind::Rbac, NAME).await? else {
        return Ok(Removal::done());
    };
    let removed = match kube_object::delete(kube, ledger, place, &record, &kube.all::<ClusterRole>()).await {
        Ok(deleting) => deleting.is_some(),
        // Out of sight: the role is gone already, and the workflow's rights with it.
        Err(WorkflowError::ClusterAuthFailed { code: 403, .. }) => false,
        Err(other) => return Err(other),
    };
    ledger.forget(place, Kind::Rbac, NAME).await?;
    Ok(if removed {
        Removal::done().removed(format!("clusterrole/{NAME} and its binding"))
    } else {
        Removal::done()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission_rules_are_not_rbac() -> Vec<PolicyRule> {
        rules()
            .into_iter()
            .chain(namespace_rules())
            .filter(|r| {
                r.api_groups
                    .iter()
                    .flatten()
                    .any(|g| g == "admissionregistration.k8s.io" || g == "*")
            })
            .collect()
    }

    #[test]
    fn the_rules_grant_no_secrets_no_exec_and_bind_only_the_collector_reader_and_namespace_role() {
        for rule in rules().into_iter().chain(namespace_rules()) {
            let resources = rule.resources.clone().unwrap_or_default();
            assert!(
                !resources.iter().any(|r| r == "secrets" || r == "pods/exec" || r == "*"),
                "{resources:?}"
            );
            assert!(
                !rule.verbs.iter().any(|v| v == "*" || v == "escalate"),
                "{:?}",
                rule.verbs
            );
            if rule.api_groups.as_deref() == Some(&["rbac.authorization.k8s.io".to_string()]) {
                // Roles are never written; bindings never changed, so never re-pointed.
                assert!(!rule.verbs.iter().any(|v| v == "patch" || v == "update"), "{rule:?}");
                if resources.iter().any(|r| r == "clusterroles") {
                    assert!(rule.resource_names.is_some(), "{rule:?}");
                    assert!(!rule.verbs.iter().any(|v| v == "create"), "{rule:?}");
                }
                if rule.verbs.iter().any(|v| v == "bind") {
                    assert_eq!(
                        rule.resource_names.as_deref(),
                        Some(&[COLLECTOR_READER.to_string(), NAMESPACE_ROLE.to_string()][..])
                    );
                }
                assert!(!resources.iter().any(|r| r == "roles"), "{rule:?}");
                if resources.iter().any(|r| r == "rolebindings") && rule.verbs.iter().any(|v| v != "create") {
                    assert_eq!(rule.resource_names.as_deref(), Some(&[NAME.to_string()][..]));
                }
            }
        }
        for rule in reader_rules() {
            assert!(
                rule.verbs
                    .iter()
                    .all(|v| ["get", "list", "watch"].contains(&v.as_str()))
            );
        }
        // Nothing namespaced cluster-wide but the logging ConfigMap and the namespace's binding.
        for rule in rules() {
            let resources = rule.resources.clone().unwrap_or_default();
            if resources
                .iter()
                .any(|r| ["pods", "persistentvolumeclaims", "serviceaccounts", "events"].contains(&r.as_str()))
            {
                panic!("namespaced rights cluster-wide: {rule:?}");
            }
            if resources.iter().any(|r| r == "configmaps") && rule.verbs.iter().any(|v| v != "create") {
                assert_eq!(
                    rule.resource_names.as_deref(),
                    Some(&[logging::CONFIG_MAP.to_string()][..])
                );
            }
        }
        let admission = admission_rules_are_not_rbac();
        assert!(
            admission.is_empty(),
            "no right on admission configuration: {admission:?}"
        );
        assert_eq!(version(), version());
        assert_eq!(version().len(), 12);
    }
}
