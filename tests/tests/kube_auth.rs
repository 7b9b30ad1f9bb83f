//! The workflow's identity at the Kubernetes API (fake API server + moto): the EKS token is
//! accepted only when valid for this cluster, TLS is verified, and a refusal is
//! `ClusterAuthFailed` before anything is created.

mod common;

use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use common::*;
use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::eks_token;
use efs_fargate_core::kube_client;
use efs_fargate_core::run::Run;
use efs_fargate_core::steps::fargate::{self, FargateAction};
use efs_fargate_core::steps::k8s::{Kube, namespace};
use fake_kube_apiserver::FakeKube;
use serde_json::json;
use std::time::{Duration, SystemTime};
use workflow_tests::{ACCESS_KEY_ID, SECRET_ACCESS_KEY, moto, seed_network};

fn credentials(secret: &str) -> Credentials {
    Credentials::new(ACCESS_KEY_ID, secret, None, None, "test")
}

/// A client sending `token` to the fake server.
fn kube_with(fake: &FakeKube, token: eks_token::EksToken) -> Kube {
    Kube {
        client: kube_client::client(CLUSTER, &fake.endpoint(), fake.ca_pem().as_bytes(), token).unwrap(),
        cluster: CLUSTER.into(),
    }
}

async fn assert_refused(kube: &Kube, run: &Run, why: &str) {
    let (name, err) = error_name(namespace::ensure_namespace(kube, run).await);
    assert_eq!(name, "ClusterAuthFailed", "{why}: {err}");
    assert!(err.to_string().contains("access entry"), "{why}: {err}");
}

#[tokio::test]
async fn rejected_expired_and_wrong_cluster_tokens_are_cluster_auth_failed() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let fake = fake_kube(&clients, CLUSTER).await;
    let run = prepared(&clients, json!({"clusterName": CLUSTER})).await;
    let now = SystemTime::now();

    let wrong_secret = eks_token::presign(&credentials("not-the-secret"), "us-east-1", CLUSTER, now).unwrap();
    assert_refused(
        &kube_with(&fake, wrong_secret),
        &run,
        "a signature from other credentials",
    )
    .await;
    let expired = eks_token::presign(
        &credentials(SECRET_ACCESS_KEY),
        "us-east-1",
        CLUSTER,
        now - Duration::from_secs(20 * 60),
    )
    .unwrap();
    assert_refused(&kube_with(&fake, expired), &run, "a token older than 15 minutes").await;
    let other_cluster = eks_token::presign(&credentials(SECRET_ACCESS_KEY), "us-east-1", "other", now).unwrap();
    assert_refused(&kube_with(&fake, other_cluster), &run, "a token for another cluster").await;

    let valid = eks_token::presign(&credentials(SECRET_ACCESS_KEY), "us-east-1", CLUSTER, now).unwrap();
    let created = namespace::ensure_namespace(&kube_with(&fake, valid), &run)
        .await
        .unwrap();
    assert!(created.created, "the same call with a valid token works");
}

#[tokio::test]
async fn a_refusal_fails_the_fargate_step_before_any_aws_resource_exists() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let run = prepared(&clients, json!({"clusterName": CLUSTER})).await;
    // Valid signatures, but the workflow's access key has no access (no access entry): HTTP 403.
    let fake = start_fake_kube(fake_kube_apiserver::Config {
        authorized_access_keys: Some(vec!["someone-else".into()]),
        ..fake_kube_config(&clients, CLUSTER)
    })
    .await;
    let (name, err) =
        error_name(fargate::handle(&clients, &kube_settings(&fake), step(FargateAction::Create, &run)).await);
    assert_eq!(name, "ClusterAuthFailed", "{err}");
    assert!(
        efs_fargate_core::aws::eks::fargate_profile(
            &clients.eks,
            &run.request.cluster_name,
            &run.owner().fargate_profile_name()
        )
        .await
        .unwrap()
        .is_none(),
        "no Fargate profile was created"
    );

    // The SDK's own credentials, when wrong, are refused the same way.
    let fake = fake_kube(&clients, CLUSTER).await;
    let mut config = moto.sdk_config().into_builder();
    config.set_credentials_provider(Some(SharedCredentialsProvider::new(credentials("wrong"))));
    let wrong = AwsClients::new(&config.build());
    let (name, err) =
        error_name(fargate::handle(&wrong, &kube_settings(&fake), step(FargateAction::Create, &run)).await);
    assert_eq!(name, "ClusterAuthFailed", "{err}");
}

#[tokio::test]
async fn tls_is_verified_against_the_clusters_ca() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let run = prepared(&clients, json!({"clusterName": CLUSTER})).await;
    let fake = fake_kube(&clients, CLUSTER).await;
    let impostor_ca = fake_kube(&clients, CLUSTER).await;
    let token = eks_token::presign(&credentials(SECRET_ACCESS_KEY), "us-east-1", CLUSTER, SystemTime::now()).unwrap();
    let kube = Kube {
        client: kube_client::client(CLUSTER, &fake.endpoint(), impostor_ca.ca_pem().as_bytes(), token).unwrap(),
        cluster: CLUSTER.into(),
    };
    let (name, err) = error_name(namespace::ensure_namespace(&kube, &run).await);
    assert_eq!(
        name, "KubernetesUnavailable",
        "a certificate from another CA is refused: {err}"
    );
    assert!(fake.object("Namespace", None, &run.request.namespace).is_none());
}
