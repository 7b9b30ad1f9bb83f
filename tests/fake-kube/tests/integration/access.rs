//! EKS access entries: no entry is 401, AmazonEKSClusterAdminPolicy allows everything, and a
//! namespace-scoped policy applies only in its namespaces.

use fake_kube_apiserver::{AccessPolicy, ResolvedAccess, Scope, StaticAccessEntries};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::common::{CLUSTER, access_entry_config, client_for, start, status_of};

const ADMIN_ROLE: &str = "arn:aws:iam::111122223333:role/Admin";
const ADMIN_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com";
const DEV_USER: &str = "arn:aws:iam::111122223333:user/dev";
const STRANGER_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/Stranger/s";

fn object<K: serde::de::DeserializeOwned>(value: Value) -> K {
    serde_json::from_value(value).unwrap()
}

fn entries() -> StaticAccessEntries {
    StaticAccessEntries::new()
        .with(
            CLUSTER,
            ADMIN_ROLE,
            ResolvedAccess {
                username: "admin:{{SessionName}}".into(),
                kubernetes_groups: vec![],
                policies: vec![AccessPolicy::cluster_admin()],
            },
        )
        .with(
            CLUSTER,
            DEV_USER,
            ResolvedAccess {
                policies: vec![AccessPolicy::new(
                    "AmazonEKSEditPolicy",
                    Scope::Namespaces(vec!["poc".into()]),
                )],
                ..ResolvedAccess::default()
            },
        )
}

async fn fake() -> fake_kube_apiserver::FakeKube {
    let callers = [
        ("admin-key", ADMIN_SESSION),
        ("dev-key", DEV_USER),
        ("stranger-key", STRANGER_SESSION),
    ];
    start(access_entry_config(&callers, entries())).await
}

#[tokio::test]
async fn a_cluster_admin_entry_can_do_everything() {
    let kube = fake().await;
    let admin = client_for(&kube, "admin-key");
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    namespaces
        .create(&PostParams::default(), &object(json!({"metadata": {"name": "poc"}})))
        .await
        .unwrap();
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), "poc");
    let secret = json!({"metadata": {"name": "token"}, "stringData": {"password": "hunter2"}});
    secrets.create(&PostParams::default(), &object(secret)).await.unwrap();
    let read = secrets.get("token").await.unwrap();
    assert_eq!(read.data.unwrap()["password"].0, b"hunter2");
    assert_eq!(read.type_.as_deref(), Some("Opaque"));
    assert!(read.string_data.is_none(), "stringData is folded into data");

    let classes: Api<StorageClass> = Api::all(admin.clone());
    let class = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "efs-sc"}, "provisioner": "efs.csi.aws.com"});
    classes
        .patch("efs-sc", &PatchParams::apply("test"), &Patch::Apply(class))
        .await
        .unwrap();
    let bindings: Api<ClusterRoleBinding> = Api::all(admin.clone());
    let binding = json!({"metadata": {"name": "anyone-views"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "Group", "name": "viewers"}]});
    bindings.create(&PostParams::default(), &object(binding)).await.unwrap();

    let pods: Api<Pod> = Api::namespaced(admin.clone(), "poc");
    let pod = json!({"metadata": {"name": "app"}, "spec": {"containers": [{"name": "app", "image": "busybox"}]}});
    pods.create(&PostParams::default(), &object(pod)).await.unwrap();
    let exec = http::Request::post("/api/v1/namespaces/poc/pods/app/exec?command=ls&stdout=true")
        .body(Vec::new())
        .unwrap();
    let status = status_of(admin.request::<Value>(exec).await);
    assert_eq!(
        (status.code, status.message.starts_with("Upgrade request required")),
        (400, true),
        "exec is authorized, then refused as not emulated: {}",
        status.message
    );
}

#[tokio::test]
async fn principals_without_an_access_entry_are_unauthorized() {
    let kube = fake().await;
    let namespaces: Api<Namespace> = Api::all(client_for(&kube, "stranger-key"));
    let status = status_of(namespaces.list(&ListParams::default()).await);
    assert_eq!((status.code, status.reason.as_str()), (401, "Unauthorized"));
    assert!(
        status.message.contains("arn:aws:iam::111122223333:role/Stranger"),
        "looked up by the role of the session: {}",
        status.message
    );
}

#[tokio::test]
async fn a_namespace_scoped_edit_policy_applies_only_in_its_namespaces() {
    let kube = fake().await;
    let admin_namespaces: Api<Namespace> = Api::all(client_for(&kube, "admin-key"));
    admin_namespaces
        .create(&PostParams::default(), &object(json!({"metadata": {"name": "poc"}})))
        .await
        .unwrap();
    let dev = client_for(&kube, "dev-key");
    let in_poc: Api<ConfigMap> = Api::namespaced(dev.clone(), "poc");
    in_poc
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "settings"}})),
        )
        .await
        .unwrap();
    assert_eq!(in_poc.list(&ListParams::default()).await.unwrap().items.len(), 1);
    let secrets: Api<Secret> = Api::namespaced(dev.clone(), "poc");
    assert_eq!(secrets.list(&ListParams::default()).await.unwrap().items.len(), 0);
    let namespaces: Api<Namespace> = Api::all(dev.clone());
    namespaces.get("poc").await.expect("a namespace is inside itself");

    let in_default: Api<ConfigMap> = Api::namespaced(dev.clone(), "default");
    let status = status_of(in_default.get("settings").await);
    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        status.message,
        "configmaps \"settings\" is forbidden: User \"arn:aws:iam::111122223333:user/dev\" cannot get \
         resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    let details = status.details.unwrap();
    assert_eq!(
        (details.name.as_str(), details.group.as_str(), details.kind.as_str()),
        ("settings", "", "configmaps")
    );
    let status = status_of(namespaces.list(&ListParams::default()).await);
    assert_eq!(
        status.message,
        "namespaces is forbidden: User \"arn:aws:iam::111122223333:user/dev\" cannot list resource \"namespaces\" \
         in API group \"\" at the cluster scope"
    );
    let classes: Api<StorageClass> = Api::all(dev);
    let status = status_of(classes.get("efs-sc").await);
    assert_eq!(status.code, 403, "{}", status.message);
    assert!(
        status
            .message
            .starts_with("storageclasses.storage.k8s.io \"efs-sc\" is forbidden"),
        "{}",
        status.message
    );
}
