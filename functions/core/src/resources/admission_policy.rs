//! The admission policy installed with the workflow's RBAC: a `ValidatingAdmissionPolicy` (GA in
//! Kubernetes 1.30) and its binding that confine every write of the workflow's group, whatever
//! its RBAC allows and whatever our code does. RBAC says which kinds; this says which objects:
//!
//! - namespaced writes only in namespaces that carry the workflow's label (never `kube-system`,
//!   so never `aws-auth`), besides the logging ConfigMap `aws-observability/aws-logging`;
//! - cluster-scoped objects created only with the label, changed or deleted only when they carry
//!   it (so no namespace or volume of anyone else's is deleted, and no one else's namespace is
//!   labelled into reach);
//! - pods (and Deployments' pod templates) only with the `default` service account and no
//!   mounted token (or the Container Insights collector's account, in its Deployment in its own
//!   namespace), no Secret, hostPath or projected volume, no privileged container and no host
//!   namespace;
//! - persistent volumes only of the EFS CSI driver; storage classes only of its provisioner;
//! - ClusterRoleBindings only of the collector's reader role to the collector's service account in
//!   the collector's namespace (or the workflow's own binding); RoleBindings only of the namespace
//!   role to the group; ClusterRoles only the workflow's own; service accounts only the collector's,
//!   in the collector's namespace.
//!
//! Policies never apply to admission configuration itself; the workflow's RBAC grants no right on
//! it, so only the bootstrap (cluster-admin for one step) writes it. Both objects are owned by the
//! workflow's ClusterRole and go with it.

use super::collector;
use super::logging;
use super::rbac::{COLLECTOR_READER, GROUP, NAME, NAMESPACE_ROLE};
use super::storage_objects::CSI_DRIVER;
use crate::ownership::{MANAGED_BY_KEY, MANAGED_BY_VALUE};
use k8s_openapi::api::admissionregistration::v1::{ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding};
use kube::api::ObjectMeta;
use serde_json::{Value, json};

/// The policy's name, and its binding's.
pub const POLICY: &str = NAME;

/// `var` is an object carrying the workflow's label (false for `null`).
fn labelled(var: &str) -> String {
    format!(
        "{var} != null && has({var}.metadata.labels) && '{MANAGED_BY_KEY}' in {var}.metadata.labels \
         && {var}.metadata.labels['{MANAGED_BY_KEY}'] == '{MANAGED_BY_VALUE}'"
    )
}

/// Each rule: a CEL expression that must hold, and what a person reads when it does not.
fn validations() -> Vec<(String, String)> {
    let collector_account = collector::SERVICE_ACCOUNT;
    let collector_namespace = collector::NAMESPACE;
    let pod_rules = format!(
        "variables.podSpec == null || (\
           ((!has(variables.podSpec.serviceAccountName) || variables.podSpec.serviceAccountName == 'default') \
             && (!has(variables.podSpec.serviceAccount) || variables.podSpec.serviceAccount == 'default') \
             && has(variables.podSpec.automountServiceAccountToken) \
             && variables.podSpec.automountServiceAccountToken == false) \
           || (request.resource.resource == 'deployments' && request.namespace == '{collector_namespace}' \
             && request.name == '{collector}' && has(variables.podSpec.serviceAccountName) \
             && variables.podSpec.serviceAccountName == '{collector_account}'))",
        collector = collector::COLLECTOR,
        collector_namespace = collector::NAMESPACE,
    );
    let no_host = "variables.podSpec == null || (\
           !(has(variables.podSpec.hostNetwork) && variables.podSpec.hostNetwork) \
           && !(has(variables.podSpec.hostPID) && variables.podSpec.hostPID) \
           && !(has(variables.podSpec.hostIPC) && variables.podSpec.hostIPC) \
           && (has(variables.podSpec.volumes) ? variables.podSpec.volumes : []).all(v, \
                !has(v.secret) && !has(v.hostPath) && !has(v.projected)) \
           && ((has(variables.podSpec.containers) ? variables.podSpec.containers : []) \
               + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : [])).all(c, \
                !has(c.securityContext) || !has(c.securityContext.privileged) || c.securityContext.privileged == false))";
    let group_only = format!("object.subjects.all(s, s.kind == 'Group' && s.name == '{GROUP}')");
    vec![
        (
            format!(
                "!variables.namespaced || variables.namespaceLabelled || (request.namespace == '{ns}' \
                 && request.resource.resource == 'configmaps' && request.name == '{cm}')",
                ns = logging::NAMESPACE,
                cm = logging::CONFIG_MAP,
            ),
            format!(
                "the workflow writes only in namespaces labelled {MANAGED_BY_KEY}={MANAGED_BY_VALUE} \
                 (and the ConfigMap {}/{})",
                logging::NAMESPACE,
                logging::CONFIG_MAP
            ),
        ),
        (
            "variables.namespaced || (request.operation == 'CREATE' || variables.oldObjectLabelled) \
             && (request.operation == 'DELETE' || variables.objectLabelled)"
                .into(),
            format!(
                "cluster-scoped objects are created only with the label {MANAGED_BY_KEY}={MANAGED_BY_VALUE}, \
                 and changed or deleted only when they carry it"
            ),
        ),
        (
            "variables.namespaced || request.resource.resource in ['namespaces', 'persistentvolumes', \
             'storageclasses', 'csidrivers', 'clusterroles', 'clusterrolebindings']"
                .into(),
            "no other cluster-scoped kind is the workflow's to write".into(),
        ),
        (
            pod_rules,
            format!(
                "pods run as the service account `default` with automountServiceAccountToken: false (only the \
             collector's Deployment in {collector_namespace} uses {collector_account})"
            ),
        ),
        (
            no_host.into(),
            "pods mount no Secret, hostPath or projected volume, use no host namespace and no privileged container"
                .into(),
        ),
        (
            format!(
                "object == null || request.resource.resource != 'persistentvolumes' \
                 || (has(object.spec.csi) && object.spec.csi.driver == '{CSI_DRIVER}')"
            ),
            format!("persistent volumes are only of the CSI driver {CSI_DRIVER}"),
        ),
        (
            format!(
                "object == null || (request.resource.resource != 'storageclasses' || object.provisioner == '{CSI_DRIVER}') \
                 && (request.resource.resource != 'csidrivers' || request.name == '{CSI_DRIVER}')"
            ),
            format!("storage classes and CSI drivers are only {CSI_DRIVER}'s"),
        ),
        (
            format!(
                "object == null || request.resource.resource != 'clusterrolebindings' || \
                 object.roleRef.kind == 'ClusterRole' && has(object.subjects) && (\
                   (object.roleRef.name == '{COLLECTOR_READER}' && object.subjects.all(s, \
                      s.kind == 'ServiceAccount' && s.name == '{collector_account}' \
                      && has(s.__namespace__) && s.__namespace__ == '{collector_namespace}')) \
                   || (request.name == '{NAME}' && object.roleRef.name == '{NAME}' && {group_only}))"
            ),
            format!(
                "ClusterRoleBindings bind only {COLLECTOR_READER} to the collector's service account in {collector_namespace}"
            ),
        ),
        (
            format!(
                "object == null || request.resource.resource != 'rolebindings' || \
                 object.roleRef.kind == 'ClusterRole' && object.roleRef.name == '{NAMESPACE_ROLE}' \
                 && has(object.subjects) && {group_only}"
            ),
            format!("RoleBindings bind only {NAMESPACE_ROLE} to the group {GROUP}"),
        ),
        (
            format!("request.resource.resource != 'clusterroles' || request.name.startsWith('{NAME}')"),
            "ClusterRoles: only the workflow's own".into(),
        ),
        (
            format!(
                "request.resource.resource != 'serviceaccounts' || request.namespace == '{collector_namespace}' \
                 && request.name == '{collector_account}'"
            ),
            format!("service accounts: only {collector_account} in {collector_namespace}"),
        ),
    ]
}

pub fn policy(metadata: ObjectMeta) -> ValidatingAdmissionPolicy {
    let pod_spec = "object == null ? null : request.resource.resource == 'pods' ? object.spec \
                    : request.resource.resource == 'deployments' ? object.spec.template.spec : null";
    let validations: Vec<Value> = validations()
        .into_iter()
        .map(|(expression, message)| json!({"expression": expression, "message": message, "reason": "Forbidden"}))
        .collect();
    let spec = json!({
        "failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": [{
            "apiGroups": ["*"], "apiVersions": ["*"],
            "operations": ["CREATE", "UPDATE", "DELETE"], "resources": ["*"],
        }]},
        "matchConditions": [{"name": "workflow-group", "expression": format!("'{GROUP}' in request.userInfo.groups")}],
        "variables": [
            // Not `request.namespace != ''`: a namespace's own requests carry its name there.
            {"name": "namespaced", "expression": "namespaceObject != null"},
            {"name": "namespaceLabelled", "expression": labelled("namespaceObject")},
            {"name": "objectLabelled", "expression": labelled("object")},
            {"name": "oldObjectLabelled", "expression": labelled("oldObject")},
            {"name": "podSpec", "expression": pod_spec},
        ],
        "validations": validations,
    });
    ValidatingAdmissionPolicy {
        metadata,
        spec: Some(serde_json::from_value(spec).expect("the policy's spec is a ValidatingAdmissionPolicySpec")),
        status: None,
    }
}

pub fn binding(metadata: ObjectMeta) -> ValidatingAdmissionPolicyBinding {
    let spec = json!({"policyName": POLICY, "validationActions": ["Deny"]});
    ValidatingAdmissionPolicyBinding {
        metadata,
        spec: Some(serde_json::from_value(spec).expect("the binding's spec")),
    }
}

/// The policy's expressions, for the RBAC version hash.
pub fn fingerprint() -> Value {
    json!(validations())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_applies_to_every_write_of_the_group_and_fails_closed() {
        let policy = policy(ObjectMeta::default());
        let spec = policy.spec.expect("a spec");
        assert_eq!(spec.failure_policy.as_deref(), Some("Fail"));
        let condition = &spec.match_conditions.expect("conditions")[0];
        assert!(condition.expression.contains(GROUP));
        let rules = spec
            .match_constraints
            .expect("constraints")
            .resource_rules
            .expect("rules");
        assert_eq!(
            rules[0].operations.as_deref(),
            Some(&["CREATE".to_string(), "UPDATE".into(), "DELETE".into()][..])
        );
        let validations = spec.validations.expect("validations");
        assert_eq!(validations.len(), super::validations().len());
        assert!(validations.iter().all(|v| v.reason.as_deref() == Some("Forbidden")));
        let binding = binding(ObjectMeta::default()).spec.expect("a spec");
        assert_eq!(binding.policy_name.as_deref(), Some(POLICY));
        assert_eq!(binding.validation_actions.as_deref(), Some(&["Deny".to_string()][..]));
    }
}
