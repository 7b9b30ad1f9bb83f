//! Every verb of every served kind through a real `kube::Client`, plus discovery and selectors.

use std::collections::BTreeMap;

use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, ServiceAccount};
use k8s_openapi::api::storage::v1::{CSIDriver, StorageClass};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams};
use kube::discovery::Discovery;
use serde_json::json;

use crate::common::{client, config, logs, pod_in_phase, start};

fn labelled_config_map(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {
            "name": name,
            "labels": labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
        },
        "data": {"key": "value"},
    }))
    .unwrap()
}

#[tokio::test]
async fn namespaces_and_config_maps_support_every_verb() {
    let kube = start(config()).await;
    let client = client(&kube);
    let namespaces: Api<Namespace> = Api::all(client.clone());

    let created = namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "poc"}})).unwrap(),
        )
        .await
        .unwrap();
    assert!(created.uid().is_some());
    assert!(created.creation_timestamp().is_some());
    assert_eq!(created.status.as_ref().unwrap().phase.as_deref(), Some("Active"));
    let applied = namespaces
        .patch(
            "poc",
            &PatchParams::apply("efs-fargate-workflow").force(),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "poc", "labels": {"team": "storage"}}})),
        )
        .await
        .unwrap();
    assert_eq!(applied.labels()["team"], "storage");
    assert!(
        applied.resource_version().unwrap().parse::<u64>().unwrap()
            > created.resource_version().unwrap().parse().unwrap()
    );

    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "poc");
    config_maps
        .create(
            &PostParams::default(),
            &labelled_config_map("settings", &[("app", "poc")]),
        )
        .await
        .unwrap();
    let got = config_maps.get("settings").await.unwrap();
    assert_eq!(got.metadata.namespace.as_deref(), Some("poc"));
    let merged = config_maps
        .patch(
            "settings",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"merged": "yes"}})),
        )
        .await
        .unwrap();
    assert_eq!(merged.data.as_ref().unwrap()["key"], "value");
    assert_eq!(merged.data.as_ref().unwrap()["merged"], "yes");
    let strategic = config_maps
        .patch(
            "settings",
            &PatchParams::default(),
            &Patch::Strategic(json!({"data": {"key": null}})),
        )
        .await
        .unwrap();
    assert!(!strategic.data.as_ref().unwrap().contains_key("key"));
    let applied = config_maps
        .patch(
            "created-by-apply",
            &PatchParams::apply("mgr").force(),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "created-by-apply"}, "data": {"a": "1"}})),
        )
        .await
        .unwrap();
    assert_eq!(applied.metadata.namespace.as_deref(), Some("poc"));
    assert_eq!(config_maps.list(&ListParams::default()).await.unwrap().items.len(), 2);

    let all: Api<ConfigMap> = Api::all(client.clone());
    assert_eq!(all.list(&ListParams::default()).await.unwrap().items.len(), 2);

    let deleted = config_maps.delete("settings", &DeleteParams::default()).await.unwrap();
    assert_eq!(deleted.right().expect("a Status").details.unwrap().name, "settings");
    assert!(config_maps.get_opt("settings").await.unwrap().is_none());
    namespaces.delete("poc", &DeleteParams::default()).await.unwrap();
    assert!(namespaces.get_opt("poc").await.unwrap().is_none());
    assert_eq!(
        kube.object("Namespace", None, "default").unwrap()["status"]["phase"],
        "Active"
    );
}

#[tokio::test]
async fn storage_kinds_are_served_by_their_group() {
    let kube = start(config()).await;
    let client = client(&kube);
    let drivers: Api<CSIDriver> = Api::all(client.clone());
    let driver = drivers
        .patch(
            "efs.csi.aws.com",
            &PatchParams::apply("mgr").force(),
            &Patch::Apply(json!({
                "apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
                "metadata": {"name": "efs.csi.aws.com"}, "spec": {"attachRequired": false}
            })),
        )
        .await
        .unwrap();
    assert_eq!(driver.spec.attach_required, Some(false));
    let classes: Api<StorageClass> = Api::all(client.clone());
    let class: StorageClass = serde_json::from_value(json!({
        "metadata": {"name": "efs-sc"}, "provisioner": "efs.csi.aws.com"
    }))
    .unwrap();
    classes.create(&PostParams::default(), &class).await.unwrap();
    assert_eq!(
        classes.get("efs-sc").await.unwrap().volume_binding_mode.as_deref(),
        Some("Immediate")
    );
    assert_eq!(classes.list(&ListParams::default()).await.unwrap().items.len(), 1);
    classes.delete("efs-sc", &DeleteParams::default()).await.unwrap();
    drivers
        .delete("efs.csi.aws.com", &DeleteParams::default())
        .await
        .unwrap();
    assert!(drivers.list(&ListParams::default()).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn pods_run_their_command_and_serve_logs_and_status() {
    let kube = start(config()).await;
    let client = client(&kube);
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "hello"},
        "spec": {"restartPolicy": "Never", "containers": [{
            "name": "app", "image": "busybox",
            "command": ["/bin/sh", "-c"], "args": ["echo hello; echo world"]
        }]}
    }))
    .unwrap();
    let created = pods.create(&PostParams::default(), &pod).await.unwrap();
    assert_eq!(created.status.unwrap().phase.as_deref(), Some("Pending"));
    let done = pod_in_phase(&pods, "hello", "Succeeded").await;
    let status = done.status.unwrap();
    let terminated = status.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(
        (terminated.exit_code, terminated.reason.as_deref()),
        (0, Some("Completed"))
    );
    assert_eq!(logs(&pods, "hello").await, "hello\nworld\n");
    let tail = LogParams {
        tail_lines: Some(1),
        container: Some("app".into()),
        ..LogParams::default()
    };
    assert_eq!(pods.logs("hello", &tail).await.unwrap(), "world\n");
    let via_status = pods.get_status("hello").await.unwrap();
    assert_eq!(via_status.status.unwrap().phase.as_deref(), Some("Succeeded"));
}

#[tokio::test]
async fn a_failing_or_unsupported_command_fails_the_pod() {
    let kube = start(config()).await;
    let pods: Api<Pod> = Api::namespaced(client(&kube), "default");
    for (name, script) in [
        ("missing-file", "echo start; cat /data/none"),
        ("unsupported", "mkdir /data/x"),
    ] {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": "busybox", "command": ["sh", "-c", script]}]}
        }))
        .unwrap();
        pods.create(&PostParams::default(), &pod).await.unwrap();
    }
    let failed = pod_in_phase(&pods, "missing-file", "Failed").await;
    let state = failed.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap();
    assert_eq!(state.terminated.unwrap().exit_code, 1);
    assert_eq!(
        logs(&pods, "missing-file").await,
        "start\ncat: can't open '/data/none': No such file or directory\n"
    );
    let unsupported = pod_in_phase(&pods, "unsupported", "Failed").await;
    let terminated = unsupported.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!((terminated.exit_code, terminated.reason.as_deref()), (2, Some("Error")));
    let log = logs(&pods, "unsupported").await;
    assert!(log.contains("unsupported command `mkdir`"), "{log}");
}

#[tokio::test]
async fn label_and_field_selectors_filter_lists() {
    let kube = start(config()).await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client(&kube), "default");
    for (name, labels) in [
        ("web", &[("app", "web"), ("tier", "front")][..]),
        ("db", &[("app", "db"), ("tier", "back")][..]),
        ("plain", &[][..]),
    ] {
        config_maps
            .create(&PostParams::default(), &labelled_config_map(name, labels))
            .await
            .unwrap();
    }
    let names = |selector: &'static str| {
        let config_maps = config_maps.clone();
        async move {
            let list = config_maps.list(&ListParams::default().labels(selector)).await.unwrap();
            list.items.iter().map(|cm| cm.name_any()).collect::<Vec<_>>()
        }
    };
    assert_eq!(names("app=web").await, ["web"]);
    assert_eq!(names("app!=web").await, ["db", "plain"]);
    assert_eq!(names("tier").await, ["db", "web"]);
    assert_eq!(names("!tier").await, ["plain"]);
    assert_eq!(names("app,tier=back").await, ["db"]);
    let by_name = config_maps
        .list(&ListParams::default().fields("metadata.name=plain"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);
}

#[tokio::test]
async fn discovery_finds_the_served_kinds() {
    let kube = start(config()).await;
    let client = client(&kube);
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(version.git_version, "v1.33.0-eks-fake");
    let discovery = Discovery::new(client).run().await.unwrap();
    let kinds: Vec<String> = discovery
        .groups()
        .flat_map(|group| group.recommended_resources())
        .map(|(resource, _)| resource.kind)
        .collect();
    for kind in [
        Pod::KIND,
        Namespace::KIND,
        ConfigMap::KIND,
        CSIDriver::KIND,
        StorageClass::KIND,
        ServiceAccount::KIND,
        Deployment::KIND,
        "PersistentVolume",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing from {kinds:?}");
    }
}
