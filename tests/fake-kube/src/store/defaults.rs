//! Fields the API server fills in on create, and the initial status of each kind.

use serde_json::{Value, json};

use crate::kind::Kind;
use crate::store::meta;

/// Fills defaults of a new object (its client-provided status is already gone).
pub fn apply_create_defaults(kind: Kind, object: &mut Value) {
    match kind {
        // Stored with the `apps/v1` defaults but never run: no controller creates ReplicaSets or
        // pods for a Deployment here, so its status stays empty.
        Kind::Deployment => {
            default(object, "/spec/replicas", json!(1));
            default(object, "/spec/revisionHistoryLimit", json!(10));
            default(object, "/spec/progressDeadlineSeconds", json!(600));
            default(
                object,
                "/spec/strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
            );
            if let Some(template) = object.pointer_mut("/spec/template") {
                pod_spec_defaults(template);
            }
            object["status"] = json!({});
        }
        Kind::Namespace => {
            let name = meta::name(object).to_string();
            meta_label(object, "kubernetes.io/metadata.name", &name);
            default(object, "/spec/finalizers", json!(["kubernetes"]));
            object["status"] = json!({"phase": "Active"});
        }
        Kind::Pod => {
            pod_spec_defaults(object);
            object["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
        }
        Kind::PersistentVolume => {
            default(object, "/spec/persistentVolumeReclaimPolicy", json!("Retain"));
            default(object, "/spec/volumeMode", json!("Filesystem"));
            object["status"] = json!({"phase": "Available"});
        }
        Kind::PersistentVolumeClaim => {
            default(object, "/spec/volumeMode", json!("Filesystem"));
            object["status"] = json!({"phase": "Pending"});
        }
        Kind::StorageClass => {
            default(object, "/reclaimPolicy", json!("Delete"));
            default(object, "/volumeBindingMode", json!("Immediate"));
        }
        Kind::CsiDriver => {
            default(object, "/spec/attachRequired", json!(true));
            default(object, "/spec/podInfoOnMount", json!(false));
            default(object, "/spec/volumeLifecycleModes", json!(["Persistent"]));
        }
        Kind::Secret => default(object, "/type", json!("Opaque")),
        Kind::ValidatingAdmissionPolicy => {
            default(object, "/spec/failurePolicy", json!("Fail"));
            default(object, "/spec/matchConstraints/matchPolicy", json!("Equivalent"));
        }
        Kind::ConfigMap
        | Kind::Event
        | Kind::ClusterRole
        | Kind::Role
        | Kind::ClusterRoleBinding
        | Kind::RoleBinding
        | Kind::ServiceAccount
        | Kind::ValidatingAdmissionPolicyBinding => {}
    }
}

/// The defaults of a pod's `spec`, also applied to a pod template.
fn pod_spec_defaults(pod: &mut Value) {
    default(pod, "/spec/restartPolicy", json!("Always"));
    default(pod, "/spec/schedulerName", json!("default-scheduler"));
    default(pod, "/spec/dnsPolicy", json!("ClusterFirst"));
    default(pod, "/spec/terminationGracePeriodSeconds", json!(30));
}

/// Sets the field at `pointer` (`/a/b`) unless it is already there.
fn default(object: &mut Value, pointer: &str, value: Value) {
    if object.pointer(pointer).is_some_and(|v| !v.is_null()) {
        return;
    }
    let mut target = object;
    let segments: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let (last, parents) = segments.split_last().expect("a pointer has a segment");
    for segment in parents {
        if !target[*segment].is_object() {
            target[*segment] = json!({});
        }
        target = &mut target[*segment];
    }
    target[*last] = value;
}

fn meta_label(object: &mut Value, key: &str, value: &str) {
    if !object["metadata"]["labels"].is_object() {
        meta::set(object, "labels", json!({}));
    }
    object["metadata"]["labels"][key] = json!(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_do_not_override_what_the_client_set() {
        let mut pv = json!({"metadata": {"name": "pv"}, "spec": {"persistentVolumeReclaimPolicy": "Delete"}});
        apply_create_defaults(Kind::PersistentVolume, &mut pv);
        assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Delete");
        assert_eq!(pv["spec"]["volumeMode"], "Filesystem");
        assert_eq!(pv["status"]["phase"], "Available");
    }

    #[test]
    fn deployments_get_one_replica_and_pod_defaults_in_their_template() {
        let mut deployment = json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": []}}}});
        apply_create_defaults(Kind::Deployment, &mut deployment);
        assert_eq!(deployment["spec"]["replicas"], 1);
        assert_eq!(deployment["spec"]["strategy"]["type"], "RollingUpdate");
        assert_eq!(deployment["spec"]["template"]["spec"]["restartPolicy"], "Always");
        assert_eq!(deployment["status"], json!({}));
        let mut scaled = json!({"metadata": {"name": "d"}, "spec": {"replicas": 0}});
        apply_create_defaults(Kind::Deployment, &mut scaled);
        assert_eq!(scaled["spec"]["replicas"], 0);
    }

    #[test]
    fn namespaces_get_their_name_label() {
        let mut ns = json!({"metadata": {"name": "poc"}});
        apply_create_defaults(Kind::Namespace, &mut ns);
        assert_eq!(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "poc");
        assert_eq!(ns["status"]["phase"], "Active");
    }
}
