//! The workflow's identity at the Kubernetes API (fake API server + moto): the EKS token is
//! accepted only when valid for this cluster, TLS is verified, and a refusal is
//! `ClusterAuthFailed` before anything is created.

use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::eks_token;
use efs_fargate_core::k8s::Kube;
use efs_fargate_core::k8s::client as kube_client;
use efs_fargate_core::run::Run;
use efs_fargate_core::steps::fargate::{self, FargateAction};
use fake_kube_apiserver::FakeKube;
use serde_json::json;
use std::time::{Duration, SystemTime};
use workflow_tests::{ACCESS_KEY_ID, CLUSTER, REGION, SECRET_ACCESS_KEY, World, error_name, step};

fn credentials(secret: &str) -> Credentials {
    Credentials::new(ACCESS_KEY_ID, secret, None, None, "test")
}

/// An EKS token for `cluster`, signed at `at` with the local access key and `secret`.
fn token(secret: &str, cluster: &str, at: SystemTime) -> eks_token::EksToken {
    eks_token::presign(&credentials(secret), REGION, cluster, at).unwrap()
}

/// A client sending `token` to `fake`, trusting the CA `ca_pem`.
fn kube_with(fake: &FakeKube, ca_pem: &str, token: eks_token::EksToken) -> Kube {
    Kube {
        client: kube_client::client(CLUSTER, &fake.endpoint(), ca_pem.as_bytes(), token).unwrap(),
        cluster: CLUSTER.into(),
    }
}

async fn assert_refused(world: &World, kube: &Kube, run: &Run, why: &str) {
    let (name, err) = error_name(world.ensure_namespace_with(kube, run).await);
    assert_eq!(name, "ClusterAuthFailed", "{why}: {err}");
    assert!(err.to_string().contains("access entry"), "{why}: {err}");
}

#[tokio::test]
async fn rejected_expired_and_wrong_cluster_tokens_are_cluster_auth_failed() {
    let world = World::with_kube().await;
    let fake = world.fake();
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;
    let now = SystemTime::now();

    let client = |token| kube_with(fake, fake.ca_pem(), token);

    let wrong_secret = token("not-the-secret", CLUSTER, now);
    assert_refused(
        &world,
        &client(wrong_secret),
        &run,
        "a signature from other credentials",
    )
    .await;
    let expired = token(SECRET_ACCESS_KEY, CLUSTER, now - Duration::from_secs(20 * 60));
    assert_refused(&world, &client(expired), &run, "a token older than 15 minutes").await;
    let other_cluster = token(SECRET_ACCESS_KEY, "other", now);
    assert_refused(&world, &client(other_cluster), &run, "a token for another cluster").await;

    let valid = token(SECRET_ACCESS_KEY, CLUSTER, now);
    let created = world.ensure_namespace_with(&client(valid), &run).await.unwrap();
    assert!(created.created, "the same call with a valid token works");
}

#[tokio::test]
async fn a_refusal_fails_the_fargate_step_before_any_aws_resource_exists() {
    // Valid signatures, but the workflow's access key has no access (no access entry): HTTP 403, and
    // an entry the workflow does not manage is never given the bootstrap grant.
    let world = World::with_kube_config(|config| fake_kube_apiserver::Config {
        authorized_access_keys: Some(vec!["someone-else".into()]),
        ..config
    })
    .await;
    let clients = &world.clients;
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;
    let (name, err) = error_name(fargate::handle(clients, &world.settings, step(FargateAction::Namespace, &run)).await);
    assert_eq!(name, "ClusterAccessNotGranted", "{err}");
    assert!(err.to_string().contains("never changes it"), "{err}");
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
    let fake = world.start_fake_kube(|config| config).await;
    let mut config = world.moto.sdk_config().into_builder();
    config.set_credentials_provider(Some(SharedCredentialsProvider::new(credentials("wrong"))));
    let wrong = AwsClients::new(&config.build());
    let (name, err) =
        error_name(fargate::handle(&wrong, &world.settings_for(&fake), step(FargateAction::Namespace, &run)).await);
    assert_eq!(name, "ClusterAuthFailed", "{err}");
}

#[tokio::test]
async fn tls_is_verified_against_the_clusters_ca() {
    let world = World::with_kube().await;
    let fake = world.fake();
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;
    let impostor_ca = world.start_fake_kube(|config| config).await;
    let valid = token(SECRET_ACCESS_KEY, CLUSTER, SystemTime::now());
    let kube = kube_with(fake, impostor_ca.ca_pem(), valid);
    let (name, err) = error_name(world.ensure_namespace_with(&kube, &run).await);
    assert_eq!(
        name, "KubernetesUnavailable",
        "a certificate from another CA is refused: {err}"
    );
    assert!(fake.object("Namespace", None, &run.request.namespace).is_none());
}
