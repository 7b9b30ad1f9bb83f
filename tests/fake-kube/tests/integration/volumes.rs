//! EFS volumes: the PoC's two pods meet on one file system, the files outlive the pods, claims and
//! volumes, and the volume handles and claims Fargate refuses keep pods from starting.

use std::time::Duration;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::CSIDriver;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;

use crate::common::{client, event, eventually, logs, pod_in_phase};
use crate::fargate::{create_fargate_profile, create_namespace, fargate_cluster};

const FILE_SYSTEM: &str = "fs-0123456789abcdef0";
const NAMESPACE: &str = "poc";

fn volume(name: &str, handle: &str) -> PersistentVolume {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": "5Gi"},
            "volumeMode": "Filesystem",
            "accessModes": ["ReadWriteMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "efs-sc",
            "csi": {"driver": "efs.csi.aws.com", "volumeHandle": handle, "volumeAttributes": {"encryptInTransit": "true"}},
        }
    }))
    .unwrap()
}

fn claim(name: &str, volume_name: &str) -> PersistentVolumeClaim {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": "efs-sc",
            "volumeName": volume_name,
            "resources": {"requests": {"storage": "5Gi"}},
        }
    }))
    .unwrap()
}

fn pod(name: &str, claim: &str, script: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "containers": [{
                "name": "app", "image": "busybox",
                "command": ["/bin/sh"], "args": ["-c", script],
                "volumeMounts": [{"name": "persistent-storage", "mountPath": "/data"}],
            }],
            "volumes": [{"name": "persistent-storage", "persistentVolumeClaim": {"claimName": claim}}],
        }
    }))
    .unwrap()
}

fn poc_script(me: u8, other: u8) -> String {
    format!(
        "while true; do echo \"$(date -u) - PoC APP {me}\" >> /data/out{me}.txt; \
         tail -n 1 /data/out{other}.txt 2>/dev/null; sleep 5; done"
    )
}

/// The EFS CSIDriver object Fargate needs, and the PoC namespace with its Fargate profile.
async fn prepare(moto: &workflow_tests::MotoGuard) -> (fake_kube_apiserver::FakeKube, kube::Client) {
    let (kube, seeded) = fargate_cluster(moto).await;
    let client = client(&kube);
    create_fargate_profile(moto, &seeded, "fp-poc", NAMESPACE).await;
    create_namespace(&client, NAMESPACE).await;
    let drivers: Api<CSIDriver> = Api::all(client.clone());
    let driver = json!({"metadata": {"name": "efs.csi.aws.com"}, "spec": {"attachRequired": false}});
    drivers
        .create(&PostParams::default(), &serde_json::from_value(driver).unwrap())
        .await
        .unwrap();
    (kube, client)
}

#[tokio::test]
async fn the_poc_pods_share_the_file_system_and_the_files_outlive_them() {
    let moto = workflow_tests::moto().await;
    let (kube, client) = prepare(&moto).await;
    let post = PostParams::default();
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), NAMESPACE);
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    volumes.create(&post, &volume("efs-pv", FILE_SYSTEM)).await.unwrap();
    claims.create(&post, &claim("efs-claim", "efs-pv")).await.unwrap();
    pods.create(&post, &pod("poc-app1", "efs-claim", &poc_script(1, 2)))
        .await
        .unwrap();
    pods.create(&post, &pod("poc-app2", "efs-claim", &poc_script(2, 1)))
        .await
        .unwrap();
    pod_in_phase(&pods, "poc-app1", "Running").await;
    pod_in_phase(&pods, "poc-app2", "Running").await;

    for (reader, writer) in [("poc-app1", 2), ("poc-app2", 1)] {
        let log = eventually(
            &format!("{reader} reads app {writer}"),
            Duration::from_secs(10),
            || async {
                let log = pods.logs(reader, &Default::default()).await.ok()?;
                log.contains(" UTC 20").then_some(log)
            },
        )
        .await;
        let line = log.lines().next().unwrap();
        assert!(
            line.ends_with(&format!(" - PoC APP {writer}")),
            "{reader} logged {line:?}"
        );
    }
    let files = kube.store_files(FILE_SYSTEM);
    assert_eq!(files.keys().collect::<Vec<_>>(), ["/out1.txt", "/out2.txt"]);
    assert!(files["/out1.txt"].lines().all(|l| l.ends_with(" - PoC APP 1")));

    for name in ["poc-app1", "poc-app2"] {
        pods.delete(name, &DeleteParams::default()).await.unwrap();
    }
    claims.delete("efs-claim", &DeleteParams::default()).await.unwrap();
    volumes.delete("efs-pv", &DeleteParams::default()).await.unwrap();
    let after_delete = kube.store_files(FILE_SYSTEM);
    assert_eq!(after_delete.len(), 2, "the files outlive pods, claim and volume");

    volumes
        .create(&post, &volume("validation-pv", FILE_SYSTEM))
        .await
        .unwrap();
    claims
        .create(&post, &claim("validation-claim", "validation-pv"))
        .await
        .unwrap();
    pods.create(&post, &pod("validate", "validation-claim", "find /data"))
        .await
        .unwrap();
    pod_in_phase(&pods, "validate", "Succeeded").await;
    assert_eq!(logs(&pods, "validate").await, "/data\n/data/out1.txt\n/data/out2.txt\n");
    assert_eq!(kube.store_files(FILE_SYSTEM), after_delete, "no pod writes any more");
}

#[tokio::test]
async fn pods_that_fargate_cannot_mount_or_schedule_stay_pending() {
    let moto = workflow_tests::moto().await;
    let (_kube, client) = prepare(&moto).await;
    let post = PostParams::default();
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), NAMESPACE);
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);

    let handle = format!("efs:{FILE_SYSTEM}");
    volumes.create(&post, &volume("v3-pv", &handle)).await.unwrap();
    claims.create(&post, &claim("v3-claim", "v3-pv")).await.unwrap();
    pods.create(&post, &pod("v3-handle", "v3-claim", "find /data"))
        .await
        .unwrap();
    let failed = event(&client, NAMESPACE, "v3-handle", "FailedMount").await;
    let expected = format!("volume ID '{handle}' is invalid: Expected a file system ID of the form 'fs-...'");
    assert!(failed.message.as_deref().unwrap().contains(&expected), "{failed:?}");
    let status = pods.get("v3-handle").await.unwrap().status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let waiting = status.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .waiting
        .unwrap();
    assert_eq!(waiting.reason.as_deref(), Some("ContainerCreating"));

    pods.create(&post, &pod("no-claim", "missing-claim", "find /data"))
        .await
        .unwrap();
    let unscheduled = event(&client, NAMESPACE, "no-claim", "FailedScheduling").await;
    assert_eq!(
        unscheduled.message.as_deref(),
        Some(
            "Pod not supported on Fargate: volumes not supported: persistent-storage not supported because: PVC missing-claim not found"
        )
    );
    claims.create(&post, &claim("unbound", "no-such-pv")).await.unwrap();
    pods.create(&post, &pod("unbound-claim", "unbound", "find /data"))
        .await
        .unwrap();
    let unscheduled = event(&client, NAMESPACE, "unbound-claim", "FailedScheduling").await;
    assert!(
        unscheduled
            .message
            .as_deref()
            .unwrap()
            .ends_with("PVC unbound not bound"),
        "{unscheduled:?}"
    );
    assert_eq!(
        pod_in_phase(&pods, "unbound-claim", "Pending")
            .await
            .spec
            .unwrap()
            .node_name,
        None
    );
}
