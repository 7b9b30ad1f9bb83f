//! The workflow's rights in a cluster, confined by the API server: after a successful run, with
//! the workflow's own token, every way the issue found to turn its rights into cluster-admin is
//! refused (403 from RBAC or from the admission policy the bootstrap installed, evaluated by the
//! fake API server with a real CEL implementation), while the same kinds of call its steps make
//! in the namespace it provisioned still succeed.

use crate::support::*;
use efs_fargate_core::ownership::{MANAGED_BY_KEY, MANAGED_BY_VALUE};
use efs_fargate_core::resources::{admission_policy, rbac};
use k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolume, Pod};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use local_stack::stack::{CLUSTER, StackOptions};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const TENANT: &str = "team-rights";

fn object<K: DeserializeOwned>(value: Value) -> K {
    serde_json::from_value(value).expect("a valid object")
}

/// The status and message of a refused call.
fn refusal<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> (u16, String) {
    match result {
        Err(kube::Error::Api(status)) => (status.code, status.message),
        other => panic!("expected the API server to refuse: {other:?}"),
    }
}

/// A pod the workflow's steps would make: default account, no token, nothing mounted.
fn pod(name: &str, spec: Value) -> Pod {
    let mut pod = json!({"metadata": {"name": name}, "spec": {
        "automountServiceAccountToken": false,
        "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
    }});
    for (key, value) in spec.as_object().into_iter().flatten() {
        pod["spec"][key] = value.clone();
    }
    object(pod)
}

fn labels() -> Value {
    json!({MANAGED_BY_KEY: MANAGED_BY_VALUE})
}

#[tokio::test]
async fn the_api_server_refuses_the_workflow_everything_outside_its_own_namespaces() {
    let stack = stack(StackOptions::default()).await;
    let run = stack
        .provision(
            "cluster-rights",
            json!({"clusterName": CLUSTER, "namespace": TENANT, "deployPocApp": false}),
        )
        .await;
    succeeded(&run);
    let admin = stack.kube_client();
    let aws_auth: ConfigMap = object(json!({"metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapRoles": "- rolearn: arn:aws:iam::123456789012:role/x\n  groups: [system:masters]\n"}}));
    let system: Namespace = object(json!({"metadata": {"name": "kube-system"}}));
    match Api::<Namespace>::all(admin.clone())
        .create(&PostParams::default(), &system)
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(other) => panic!("kube-system: {other}"),
    }
    let workflow = stack.kube_client_as(workflow_tests::ACCESS_KEY_ID, workflow_tests::SECRET_ACCESS_KEY);
    let create = PostParams::default();
    let mut refused = Vec::new();

    // `kube-system/aws-auth`: created (the policy), or patched once it exists (RBAC).
    let system_maps = Api::<ConfigMap>::namespaced(workflow.clone(), "kube-system");
    refused.push((
        "create kube-system/aws-auth",
        refusal(system_maps.create(&create, &aws_auth).await),
    ));
    Api::<ConfigMap>::namespaced(admin.clone(), "kube-system")
        .create(&create, &aws_auth)
        .await
        .expect("the admin's aws-auth");
    let patch = Patch::Merge(json!({"data": {"mapRoles": "- rolearn: x\n  groups: [system:masters]\n"}}));
    refused.push((
        "patch kube-system/aws-auth",
        refusal(system_maps.patch("aws-auth", &PatchParams::default(), &patch).await),
    ));

    // Pods that would hand the workflow someone else's rights.
    let secret_volume = json!({"volumes": [{"name": "s", "secret": {"secretName": "anything"}}]});
    refused.push((
        "pod in kube-system mounting a Secret",
        refusal(
            Api::<Pod>::namespaced(workflow.clone(), "kube-system")
                .create(&create, &pod("steal", secret_volume.clone()))
                .await,
        ),
    ));
    let tenant_pods = Api::<Pod>::namespaced(workflow.clone(), TENANT);
    for (what, spec) in [
        ("pod mounting a Secret in the provisioned namespace", secret_volume),
        (
            "pod with a foreign service account",
            json!({"serviceAccountName": "deployer", "automountServiceAccountToken": true}),
        ),
        (
            "pod with the default account's token",
            json!({"automountServiceAccountToken": true}),
        ),
        (
            "pod with a projected token",
            json!({"volumes": [{"name": "t", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}]}),
        ),
        ("pod on the host network", json!({"hostNetwork": true})),
        (
            "privileged pod",
            json!({"containers": [{"name": "c", "image": "busybox", "securityContext": {"privileged": true}}]}),
        ),
        (
            "pod mounting the node",
            json!({"volumes": [{"name": "h", "hostPath": {"path": "/"}}]}),
        ),
    ] {
        refused.push((what, refusal(tenant_pods.create(&create, &pod("attack", spec)).await)));
    }

    // Cluster-scoped objects that are not the workflow's to make, change or delete.
    let host_volume: PersistentVolume = object(json!({"metadata": {"name": "host", "labels": labels()},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/"}}}));
    refused.push((
        "hostPath PV",
        refusal(
            Api::<PersistentVolume>::all(workflow.clone())
                .create(&create, &host_volume)
                .await,
        ),
    ));
    let namespaces = Api::<Namespace>::all(workflow.clone());
    refused.push((
        "delete kube-system",
        refusal(namespaces.delete("kube-system", &DeleteParams::default()).await),
    ));
    let label = Patch::Merge(json!({"metadata": {"labels": labels()}}));
    refused.push((
        "label kube-system into reach",
        refusal(namespaces.patch("kube-system", &PatchParams::default(), &label).await),
    ));
    refused.push((
        "unlabelled namespace",
        refusal(
            namespaces
                .create(&create, &object(json!({"metadata": {"name": "unlabelled"}})))
                .await,
        ),
    ));
    let escalation: ClusterRoleBinding = object(json!({
        "metadata": {"name": "escalate", "labels": labels()},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": rbac::NAME},
        "subjects": [{"kind": "Group", "name": "system:serviceaccounts", "apiGroup": "rbac.authorization.k8s.io"}]
    }));
    refused.push((
        "bind the workflow's role to system:serviceaccounts",
        refusal(
            Api::<ClusterRoleBinding>::all(workflow.clone())
                .create(&create, &escalation)
                .await,
        ),
    ));
    let admin_binding: RoleBinding = object(json!({
        "metadata": {"name": "tenant-admin", "labels": labels()},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"kind": "Group", "name": "system:authenticated", "apiGroup": "rbac.authorization.k8s.io"}]
    }));
    refused.push((
        "bind admin in the provisioned namespace",
        refusal(
            Api::<RoleBinding>::namespaced(workflow.clone(), TENANT)
                .create(&create, &admin_binding)
                .await,
        ),
    ));
    refused.push((
        "delete the admission policy",
        refusal(
            Api::<ValidatingAdmissionPolicy>::all(workflow.clone())
                .delete(admission_policy::POLICY, &DeleteParams::default())
                .await,
        ),
    ));

    for (what, (code, message)) in &refused {
        eprintln!("refused: {what}: {code} {message}");
        assert_eq!(*code, 403, "{what}: {message}");
    }
    let by_policy = |what: &str| {
        refused
            .iter()
            .find(|(w, _)| *w == what)
            .is_some_and(|(_, (_, message))| message.contains("ValidatingAdmissionPolicy 'efs-fargate-workflow'"))
    };
    // RBAC would have let these through: the admission policy is what refuses them.
    for what in [
        "create kube-system/aws-auth",
        "pod mounting a Secret in the provisioned namespace",
        "pod with a foreign service account",
        "hostPath PV",
        "delete kube-system",
        "label kube-system into reach",
        "bind the workflow's role to system:serviceaccounts",
    ] {
        assert!(by_policy(what), "{what}: {refused:?}");
    }
    assert!(
        Api::<ConfigMap>::namespaced(admin.clone(), "kube-system")
            .get("aws-auth")
            .await
            .expect("aws-auth")
            .data
            .expect("data")["mapRoles"]
            .contains("role/x"),
        "aws-auth unchanged"
    );

    // What its steps do in the namespace it provisioned still works.
    tenant_pods
        .create(&create, &pod("allowed", json!({})))
        .await
        .expect("a plain pod");
    tenant_pods
        .delete("allowed", &DeleteParams::default())
        .await
        .expect("deleted");
    let efs_volume: PersistentVolume = object(json!({"metadata": {"name": "efs-allowed", "labels": labels()},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"],
                 "csi": {"driver": "efs.csi.aws.com", "volumeHandle": "fs-0123::fsap-0123"}}}));
    let volumes = Api::<PersistentVolume>::all(workflow.clone());
    volumes.create(&create, &efs_volume).await.expect("an EFS volume");
    volumes
        .delete("efs-allowed", &DeleteParams::default())
        .await
        .expect("deleted");
    Api::<ConfigMap>::namespaced(workflow, TENANT)
        .create(&create, &object(json!({"metadata": {"name": "settings"}})))
        .await
        .expect("a ConfigMap");

    let cleanup = stack.cleanup("cluster-rights-cleanup", TENANT).await;
    succeeded(&cleanup);
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    assert!(
        stack
            .stack
            .kube
            .object("ValidatingAdmissionPolicy", None, admission_policy::POLICY)
            .is_none(),
        "the policy goes with the workflow's RBAC"
    );
    stack.shutdown().await;
}
