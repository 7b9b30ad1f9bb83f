//! Pods run only when an ACTIVE Fargate profile in moto's EKS selects them.

use aws_sdk_eks::types::FargateProfileSelector;
use fake_kube_apiserver::{Config, FakeKube};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::ResourceExt;
use kube::api::{Api, PostParams};
use serde_json::json;
use workflow_tests::{MotoGuard, SeededCluster};

use crate::common::{CLUSTER, client, config, event, pod_in_phase, start};

/// A fake that asks moto's EKS for the Fargate profiles of the seeded cluster `demo`.
pub async fn fargate_cluster(moto: &MotoGuard) -> (FakeKube, SeededCluster) {
    let seeded = workflow_tests::seed_network(&moto.clients(), CLUSTER).await;
    let kube = start(Config {
        eks: Some(moto.clients().eks),
        ..config()
    })
    .await;
    (kube, seeded)
}

pub async fn create_fargate_profile(moto: &MotoGuard, seeded: &SeededCluster, name: &str, namespace: &str) {
    let selector = FargateProfileSelector::builder().namespace(namespace).build();
    moto.clients()
        .eks
        .create_fargate_profile()
        .cluster_name(CLUSTER)
        .fargate_profile_name(name)
        .pod_execution_role_arn("arn:aws:iam::123456789012:role/eks-fargate-pods")
        .set_subnets(Some(seeded.private_subnet_ids()))
        .selectors(selector)
        .send()
        .await
        .expect("moto creates the Fargate profile");
}

pub async fn create_namespace(client: &kube::Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
        )
        .await
        .unwrap();
}

fn sleeper(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"]}]}
    }))
    .unwrap()
}

#[tokio::test]
async fn pods_run_only_once_an_active_fargate_profile_selects_their_namespace() {
    let moto = workflow_tests::moto().await;
    let (kube, seeded) = fargate_cluster(&moto).await;
    let client = client(&kube);
    create_namespace(&client, "poc-ns").await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "poc-ns");

    pods.create(&PostParams::default(), &sleeper("early")).await.unwrap();
    let failed = event(&client, "poc-ns", "early", "FailedScheduling").await;
    let message = failed.message.unwrap();
    assert!(
        message.contains("Pod not supported on Fargate") && message.contains("no ACTIVE Fargate profile"),
        "{message}"
    );
    let early = pod_in_phase(&pods, "early", "Pending").await;
    let scheduled = early
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .unwrap();
    assert_eq!(
        (scheduled.status.as_str(), scheduled.reason.as_deref()),
        ("False", Some("Unschedulable"))
    );

    create_fargate_profile(&moto, &seeded, "fp-poc", "poc-*").await;
    pods.create(&PostParams::default(), &sleeper("late")).await.unwrap();
    let late = pod_in_phase(&pods, "late", "Running").await;
    assert_eq!(late.labels()["eks.amazonaws.com/fargate-profile"], "fp-poc");
    let spec = late.spec.unwrap();
    assert_eq!(spec.node_name.as_deref(), Some("fargate-ip-10-0-10-5.ec2.internal"));
    assert_eq!(spec.scheduler_name.as_deref(), Some("fargate-scheduler"));
    let status = late.status.unwrap();
    assert_eq!(status.pod_ip.as_deref(), Some("10.0.10.5"));
    let ready = status
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.status, "True");
    assert!(
        status.container_statuses.unwrap()[0]
            .state
            .as_ref()
            .unwrap()
            .running
            .is_some()
    );
    event(&client, "poc-ns", "late", "Scheduled").await;

    let early = pods.get("early").await.unwrap();
    assert_eq!(
        early.status.unwrap().phase.as_deref(),
        Some("Pending"),
        "like EKS, a pod created before its profile stays Pending"
    );
    create_namespace(&client, "elsewhere").await;
    let elsewhere: Api<Pod> = Api::namespaced(client.clone(), "elsewhere");
    elsewhere
        .create(&PostParams::default(), &sleeper("stray"))
        .await
        .unwrap();
    event(&client, "elsewhere", "stray", "FailedScheduling").await;
}
