//! RBAC through a real `kube::Client`: roles and bindings are stored like any object, and an
//! entry without access policies can do exactly what the bindings of its username and groups
//! allow, including the escalation checks on writing roles and bindings.

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::common::{access_entry_config, admin_and_group_member, client_for, logs, pod_in_phase, start, status_of};

const ADMIN: &str = "arn:aws:iam::111122223333:user/admin";
const WORKFLOW: &str = "arn:aws:iam::111122223333:role/Workflow";
const WORKFLOW_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/Workflow/run-1";
const GROUP: &str = "efs-workflow";
const USER: &str = "efs-workflow-user";

fn object<K: serde::de::DeserializeOwned>(value: Value) -> K {
    serde_json::from_value(value).unwrap()
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
}

fn role_ref(kind: &str, name: &str) -> Value {
    json!({"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name})
}

/// A fake with a cluster admin (`admin`) and the workflow's role, an entry with only a username
/// and a group; plus the namespace `poc`.
async fn fake() -> (fake_kube_apiserver::FakeKube, kube::Client, kube::Client) {
    let entries = admin_and_group_member(ADMIN, WORKFLOW, USER, GROUP);
    let kube = start(access_entry_config(
        &[("admin-key", ADMIN), ("workflow-key", WORKFLOW_SESSION)],
        entries,
    ))
    .await;
    let admin = client_for(&kube, "admin-key");
    let workflow = client_for(&kube, "workflow-key");
    Api::<Namespace>::all(admin.clone())
        .create(&PostParams::default(), &object(json!({"metadata": {"name": "poc"}})))
        .await
        .unwrap();
    (kube, admin, workflow)
}

async fn grant_cluster_role(admin: &kube::Client, name: &str, rules: Vec<Value>) {
    let role = json!({"metadata": {"name": name}, "rules": rules});
    Api::<ClusterRole>::all(admin.clone())
        .create(&PostParams::default(), &object(role))
        .await
        .unwrap();
    let binding = json!({"metadata": {"name": name}, "roleRef": role_ref("ClusterRole", name),
        "subjects": [{"kind": "Group", "name": GROUP}]});
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(&PostParams::default(), &object(binding))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_group_entry_can_do_exactly_what_its_cluster_role_allows() {
    let (_kube, admin, workflow) = fake().await;
    let rules = vec![
        rule(&[""], &["namespaces"], &["create", "get"]),
        rule(&["storage.k8s.io"], &["storageclasses"], &["get", "create", "patch"]),
        rule(&[""], &["pods"], &["create", "get"]),
        rule(&[""], &["pods/log"], &["get"]),
    ];
    grant_cluster_role(&admin, "efs-workflow", rules).await;
    Api::<Secret>::namespaced(admin.clone(), "poc")
        .create(&PostParams::default(), &object(json!({"metadata": {"name": "token"}})))
        .await
        .unwrap();

    Api::<Namespace>::all(workflow.clone())
        .create(&PostParams::default(), &object(json!({"metadata": {"name": "apps"}})))
        .await
        .unwrap();
    let class = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "efs-sc"}, "provisioner": "efs.csi.aws.com"});
    Api::<StorageClass>::all(workflow.clone())
        .patch(
            "efs-sc",
            &PatchParams::apply("efs-fargate-workflow"),
            &Patch::Apply(class),
        )
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(workflow.clone(), "poc");
    let pod = json!({"metadata": {"name": "app"}, "spec": {"containers": [
        {"name": "app", "image": "busybox", "command": ["sh", "-c", "echo ready"]}
    ]}});
    pods.create(&PostParams::default(), &object(pod)).await.unwrap();
    pod_in_phase(&pods, "app", "Succeeded").await;
    assert_eq!(logs(&pods, "app").await, "ready\n");

    let secret = status_of(Api::<Secret>::namespaced(workflow.clone(), "poc").get("token").await);
    assert_eq!((secret.code, secret.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        secret.message,
        "secrets \"token\" is forbidden: User \"efs-workflow-user\" cannot get resource \"secrets\" in API group \"\" \
         in the namespace \"poc\""
    );
    let exec = http::Request::post("/api/v1/namespaces/poc/pods/app/exec?command=ls&stdout=true")
        .body(Vec::new())
        .unwrap();
    let exec = status_of(workflow.request::<Value>(exec).await);
    assert_eq!(
        exec.message,
        "pods \"app\" is forbidden: User \"efs-workflow-user\" cannot create resource \"pods/exec\" in API group \"\" \
         in the namespace \"poc\""
    );
    let details = exec.details.unwrap();
    assert_eq!((details.name.as_str(), details.kind.as_str()), ("app", "pods"));
    let binding = json!({"metadata": {"name": "me-admin"}, "roleRef": role_ref("ClusterRole", "cluster-admin"),
        "subjects": [{"kind": "User", "name": USER}]});
    let status = status_of(
        Api::<ClusterRoleBinding>::all(workflow.clone())
            .create(&PostParams::default(), &object(binding))
            .await,
    );
    assert_eq!(
        status.message,
        "clusterrolebindings.rbac.authorization.k8s.io is forbidden: User \"efs-workflow-user\" cannot create \
         resource \"clusterrolebindings\" in API group \"rbac.authorization.k8s.io\" at the cluster scope"
    );
    let status = status_of(
        Api::<Pod>::namespaced(workflow.clone(), "poc")
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(status.code, 403, "get does not imply list");
}

#[tokio::test]
async fn resource_names_limit_a_rule_to_the_named_objects() {
    let (_kube, admin, workflow) = fake().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(admin.clone(), "poc");
    for name in ["settings", "other"] {
        config_maps
            .create(&PostParams::default(), &object(json!({"metadata": {"name": name}})))
            .await
            .unwrap();
    }
    let mut named = rule(&[""], &["configmaps"], &["get", "patch"]);
    named["resourceNames"] = json!(["settings"]);
    let role = json!({"metadata": {"name": "settings-editor"}, "rules": [named]});
    Api::<Role>::namespaced(admin.clone(), "poc")
        .create(&PostParams::default(), &object(role))
        .await
        .unwrap();
    let binding = json!({"metadata": {"name": "settings-editor"}, "roleRef": role_ref("Role", "settings-editor"),
        "subjects": [{"kind": "User", "name": USER}]});
    Api::<RoleBinding>::namespaced(admin.clone(), "poc")
        .create(&PostParams::default(), &object(binding))
        .await
        .unwrap();

    let config_maps: Api<ConfigMap> = Api::namespaced(workflow.clone(), "poc");
    config_maps.get("settings").await.unwrap();
    config_maps
        .patch(
            "settings",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"a": "1"}})),
        )
        .await
        .unwrap();
    assert_eq!(status_of(config_maps.get("other").await).code, 403);
    assert_eq!(status_of(config_maps.list(&ListParams::default()).await).code, 403);
    let delete = status_of(config_maps.delete("settings", &DeleteParams::default()).await);
    assert_eq!(delete.code, 403);
}

#[tokio::test]
async fn a_role_binding_to_a_cluster_role_grants_only_in_its_namespace() {
    let (_kube, admin, workflow) = fake().await;
    let binding = json!({"metadata": {"name": "viewers"}, "roleRef": role_ref("ClusterRole", "view"),
        "subjects": [{"kind": "Group", "name": GROUP}]});
    Api::<RoleBinding>::namespaced(admin.clone(), "poc")
        .create(&PostParams::default(), &object(binding))
        .await
        .unwrap();
    let dangling = json!({"metadata": {"name": "dangling"}, "roleRef": role_ref("ClusterRole", "gone"),
        "subjects": [{"kind": "Group", "name": GROUP}]});
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(&PostParams::default(), &object(dangling))
        .await
        .unwrap();

    Api::<Pod>::namespaced(workflow.clone(), "poc")
        .list(&ListParams::default())
        .await
        .unwrap();
    Api::<Namespace>::all(workflow.clone()).get("poc").await.unwrap();
    let elsewhere = status_of(
        Api::<Pod>::namespaced(workflow.clone(), "default")
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(
        elsewhere.message,
        "pods is forbidden: User \"efs-workflow-user\" cannot list resource \"pods\" in API group \"\" in the \
         namespace \"default\": RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found"
    );
    let write = status_of(
        Api::<ConfigMap>::namespaced(workflow.clone(), "poc")
            .create(&PostParams::default(), &object(json!({"metadata": {"name": "x"}})))
            .await,
    );
    assert_eq!(write.code, 403, "view does not write");
}

#[tokio::test]
async fn granting_needs_the_permissions_or_the_bind_and_escalate_verbs() {
    let (_kube, admin, workflow) = fake().await;
    let rules = vec![
        rule(
            &["rbac.authorization.k8s.io"],
            &["clusterroles", "clusterrolebindings"],
            &["create", "patch"],
        ),
        rule(&[""], &["pods"], &["get"]),
    ];
    grant_cluster_role(&admin, "rbac-writer", rules).await;
    let roles: Api<ClusterRole> = Api::all(workflow.clone());
    let bindings: Api<ClusterRoleBinding> = Api::all(workflow.clone());
    let bind_to = |name: &str, role: &str| -> ClusterRoleBinding {
        object(
            json!({"metadata": {"name": name}, "roleRef": role_ref("ClusterRole", role),
            "subjects": [{"kind": "User", "name": "someone"}]}),
        )
    };

    let pod_reader = json!({"metadata": {"name": "pod-reader"}, "rules": [rule(&[""], &["pods"], &["get"])]});
    roles.create(&PostParams::default(), &object(pod_reader)).await.unwrap();
    bindings
        .create(&PostParams::default(), &bind_to("readers", "pod-reader"))
        .await
        .expect("granting what one holds");
    let secret_reader = json!({"metadata": {"name": "secret-reader"}, "rules": [rule(&[""], &["secrets"], &["get"])]});
    let escalation = status_of(roles.create(&PostParams::default(), &object(secret_reader)).await);
    assert_eq!(escalation.code, 403);
    assert_eq!(
        escalation.message,
        "clusterroles.rbac.authorization.k8s.io \"secret-reader\" is forbidden: user \"efs-workflow-user\" \
         (groups=[\"efs-workflow\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently \
         held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}"
    );
    let widen = Patch::Merge(json!({"rules": [rule(&[""], &["pods"], &["get", "delete"])]}));
    let status = status_of(roles.patch("pod-reader", &PatchParams::default(), &widen).await);
    assert_eq!(status.code, 403, "a patch is checked as the role it makes");
    let status = status_of(
        bindings
            .create(&PostParams::default(), &bind_to("admins", "cluster-admin"))
            .await,
    );
    assert!(status.message.contains("not currently held"), "{}", status.message);

    let mut bind = rule(&["rbac.authorization.k8s.io"], &["clusterroles"], &["bind"]);
    bind["resourceNames"] = json!(["cluster-admin"]);
    grant_cluster_role(&admin, "cluster-admin-binder", vec![bind]).await;
    bindings
        .create(&PostParams::default(), &bind_to("admins", "cluster-admin"))
        .await
        .expect("bind on the role is enough");
}

#[tokio::test]
async fn rbac_objects_support_every_verb() {
    let (_kube, admin, _workflow) = fake().await;
    let roles: Api<Role> = Api::namespaced(admin.clone(), "poc");
    let role = json!({"metadata": {"name": "reader"}, "rules": [rule(&[""], &["pods"], &["get"])]});
    roles.create(&PostParams::default(), &object(role)).await.unwrap();
    let applied = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "reader", "labels": {"app": "poc"}}});
    roles
        .patch("reader", &PatchParams::apply("test"), &Patch::Apply(applied))
        .await
        .unwrap();
    let listed = roles.list(&ListParams::default().labels("app=poc")).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].rules.as_ref().unwrap().len(), 1);

    let bindings: Api<RoleBinding> = Api::namespaced(admin.clone(), "poc");
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "readers"}, "roleRef": role_ref("Role", "reader"), "subjects": []});
    bindings
        .patch("readers", &PatchParams::apply("test"), &Patch::Apply(binding))
        .await
        .unwrap();
    let moved = Patch::Merge(json!({"roleRef": role_ref("ClusterRole", "view")}));
    let status = status_of(bindings.patch("readers", &PatchParams::default(), &moved).await);
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    let bad = json!({"metadata": {"name": "bad"}, "roleRef": role_ref("Robot", "x")});
    let status = status_of(bindings.create(&PostParams::default(), &object(bad)).await);
    assert_eq!(status.code, 422);
    bindings.delete("readers", &DeleteParams::default()).await.unwrap();
    roles.delete("reader", &DeleteParams::default()).await.unwrap();
    assert!(roles.list(&ListParams::default()).await.unwrap().items.is_empty());
    let defaults = Api::<ClusterRole>::all(admin).get("cluster-admin").await.unwrap();
    assert_eq!(defaults.labels()["kubernetes.io/bootstrapping"], "rbac-defaults");
}
