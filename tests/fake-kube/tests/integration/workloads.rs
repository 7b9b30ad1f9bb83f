//! ServiceAccounts and Deployments (what a Container Insights collector needs) through a real
//! `kube::Client`: every verb, the API server's Deployment validation and defaults, namespace
//! deletion, and the EKS access policies that grant them.

use fake_kube_apiserver::{AccessPolicy, ResolvedAccess, Scope, StaticAccessEntries};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::common::{CLUSTER, access_entry_config, client, client_for, config, start, status_of};

const MANAGER: &str = "efs-fargate-workflow";

fn object<K: serde::de::DeserializeOwned>(value: Value) -> K {
    serde_json::from_value(value).unwrap()
}

/// A collector Deployment whose selector is `app=<selected>` and whose pods carry `app=<labelled>`.
fn collector(name: &str, selected: &str, labelled: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": selected}},
            "template": {
                "metadata": {"labels": {"app": labelled}},
                "spec": {
                    "serviceAccountName": "collector",
                    "containers": [{"name": "agent", "image": "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest"}],
                },
            },
        },
    })
}

async fn create_namespace(client: &kube::Client, name: &str) -> Api<Namespace> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(&PostParams::default(), &object(json!({"metadata": {"name": name}})))
        .await
        .unwrap();
    namespaces
}

#[tokio::test]
async fn service_accounts_and_deployments_support_every_verb_and_go_with_their_namespace() {
    let kube = start(config()).await;
    let client = client(&kube);
    let namespaces = create_namespace(&client, "run-1").await;

    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "run-1");
    let account = accounts
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "collector", "labels": {"owner": "run-1"}}})),
        )
        .await
        .unwrap();
    assert_eq!(account.metadata.namespace.as_deref(), Some("run-1"));
    assert!(account.uid().is_some());
    let annotated = accounts
        .patch(
            "collector",
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(json!({
                "apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "collector", "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/collector"}},
            })),
        )
        .await
        .unwrap();
    assert_eq!(annotated.labels()["owner"], "run-1");
    assert_eq!(
        annotated.annotations()["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::111122223333:role/collector"
    );
    assert_eq!(accounts.get("collector").await.unwrap().uid(), account.uid());

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "run-1");
    let created = deployments
        .patch(
            "collector",
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(collector("collector", "collector", "collector")),
        )
        .await
        .unwrap();
    let spec = created.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(1), "replicas default to 1");
    assert_eq!(
        spec.template.spec.as_ref().unwrap().restart_policy.as_deref(),
        Some("Always")
    );
    let scaled = deployments
        .patch(
            "collector",
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "collector"}, "spec": {"replicas": 2},
            })),
        )
        .await
        .unwrap();
    assert_eq!(scaled.spec.as_ref().unwrap().replicas, Some(2));
    assert_eq!(scaled.uid(), created.uid());
    let status_write = deployments
        .patch(
            "collector",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"readyReplicas": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(
        status_write.status.unwrap_or_default().ready_replicas,
        None,
        "the status belongs to the (absent) controller"
    );
    let status = deployments.get_status("collector").await.unwrap();
    assert_eq!(status.uid(), created.uid());
    let listed = deployments.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    let everywhere: Api<Deployment> = Api::all(client.clone());
    assert_eq!(everywhere.list(&ListParams::default()).await.unwrap().items.len(), 1);

    deployments
        .create(&PostParams::default(), &object(collector("other", "other", "other")))
        .await
        .unwrap();
    deployments.delete("other", &DeleteParams::default()).await.unwrap();
    assert!(deployments.get_opt("other").await.unwrap().is_none());

    assert!(kube.object("ServiceAccount", Some("run-1"), "collector").is_some());
    assert!(kube.object("Deployment", Some("run-1"), "collector").is_some());
    namespaces.delete("run-1", &DeleteParams::default()).await.unwrap();
    assert!(kube.object("ServiceAccount", Some("run-1"), "collector").is_none());
    assert!(kube.object("Deployment", Some("run-1"), "collector").is_none());
    create_namespace(&client, "run-1").await;
    assert!(accounts.list(&ListParams::default()).await.unwrap().items.is_empty());
    assert!(deployments.list(&ListParams::default()).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn deployments_are_validated_like_the_api_server_does() {
    let kube = start(config()).await;
    let deployments: Api<Deployment> = Api::namespaced(client(&kube), "default");

    let mismatch = status_of(
        deployments
            .create(&PostParams::default(), &object(collector("c", "collector", "agent")))
            .await,
    );
    assert_eq!((mismatch.code, mismatch.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        mismatch.message,
        "Deployment.apps \"c\" is invalid: spec.template.metadata.labels: Invalid value: \
         map[string]string{\"app\":\"agent\"}: `selector` does not match template `labels`"
    );
    let details = mismatch.details.unwrap();
    assert_eq!((details.group.as_str(), details.kind.as_str()), ("apps", "Deployment"));

    let applied = status_of(
        deployments
            .patch(
                "c",
                &PatchParams::apply(MANAGER).force(),
                &Patch::Apply(collector("c", "collector", "agent")),
            )
            .await,
    );
    assert_eq!(applied.code, 422, "server-side apply validates too");

    let mut no_containers = collector("c", "collector", "collector");
    no_containers["spec"]["template"]["spec"]["containers"] = json!([]);
    let mut no_selector = collector("d", "collector", "collector");
    no_selector["spec"].as_object_mut().unwrap().remove("selector");
    for (body, field) in [
        (no_containers, "spec.template.spec.containers"),
        (no_selector, "spec.selector"),
    ] {
        let refused = status_of(deployments.create(&PostParams::default(), &object(body)).await);
        assert_eq!(refused.code, 422);
        let fields: Vec<String> = refused.details.unwrap().causes.into_iter().map(|c| c.field).collect();
        assert_eq!(fields[0], field, "{}", refused.message);
    }
    assert!(deployments.list(&ListParams::default()).await.unwrap().items.is_empty());

    deployments
        .create(
            &PostParams::default(),
            &object(collector("c", "collector", "collector")),
        )
        .await
        .unwrap();
    let reselected = status_of(
        deployments
            .patch(
                "c",
                &PatchParams::apply(MANAGER).force(),
                &Patch::Apply(collector("c", "agent", "agent")),
            )
            .await,
    );
    assert_eq!(reselected.code, 422);
    assert!(
        reselected.message.ends_with("field is immutable"),
        "{}",
        reselected.message
    );
}

#[tokio::test]
async fn edit_access_writes_workloads_in_its_namespace_and_view_access_only_reads_them() {
    const ADMIN: &str = "arn:aws:iam::111122223333:role/Admin";
    const EDITOR: &str = "arn:aws:iam::111122223333:role/Editor";
    const VIEWER: &str = "arn:aws:iam::111122223333:role/Viewer";
    let namespaced = |policy: &str| ResolvedAccess {
        policies: vec![AccessPolicy::new(policy, Scope::Namespaces(vec!["run-1".into()]))],
        ..ResolvedAccess::default()
    };
    let entries = StaticAccessEntries::new()
        .with(
            CLUSTER,
            ADMIN,
            ResolvedAccess {
                policies: vec![AccessPolicy::cluster_admin()],
                ..ResolvedAccess::default()
            },
        )
        .with(CLUSTER, EDITOR, namespaced("AmazonEKSEditPolicy"))
        .with(CLUSTER, VIEWER, namespaced("AmazonEKSViewPolicy"));
    let callers = [("admin-key", ADMIN), ("editor-key", EDITOR), ("viewer-key", VIEWER)];
    let kube = start(access_entry_config(&callers, entries)).await;
    create_namespace(&client_for(&kube, "admin-key"), "run-1").await;
    create_namespace(&client_for(&kube, "admin-key"), "other").await;

    let editor = client_for(&kube, "editor-key");
    let accounts: Api<ServiceAccount> = Api::namespaced(editor.clone(), "run-1");
    accounts
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "collector"}})),
        )
        .await
        .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(editor.clone(), "run-1");
    deployments
        .patch(
            "collector",
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(collector("collector", "collector", "collector")),
        )
        .await
        .unwrap();
    let elsewhere: Api<Deployment> = Api::namespaced(editor, "other");
    let outside = status_of(
        elsewhere
            .create(&PostParams::default(), &object(collector("c", "c", "c")))
            .await,
    );
    assert_eq!(outside.code, 403);
    assert!(
        outside.message.starts_with("deployments.apps is forbidden"),
        "{}",
        outside.message
    );

    let viewer = client_for(&kube, "viewer-key");
    let read: Api<Deployment> = Api::namespaced(viewer.clone(), "run-1");
    assert_eq!(read.list(&ListParams::default()).await.unwrap().items.len(), 1);
    let refused = status_of(read.delete("collector", &DeleteParams::default()).await);
    assert_eq!(refused.code, 403);
    let read_accounts: Api<ServiceAccount> = Api::namespaced(viewer, "run-1");
    assert!(read_accounts.get("collector").await.is_ok());
    let refused = status_of(
        read_accounts
            .create(&PostParams::default(), &object(json!({"metadata": {"name": "x"}})))
            .await,
    );
    assert_eq!(refused.code, 403);
}
