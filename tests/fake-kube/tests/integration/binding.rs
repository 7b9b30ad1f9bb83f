//! Claim binding rules and namespace deletion, seen through the API.

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::{Value, json};

use crate::common::{client, config, start};

fn volume(name: &str, class: &str, size: &str, claim_ref: Option<Value>) -> PersistentVolume {
    let mut spec = json!({
        "capacity": {"storage": size},
        "accessModes": ["ReadWriteMany"],
        "storageClassName": class,
        "persistentVolumeReclaimPolicy": "Retain",
        "csi": {"driver": "efs.csi.aws.com", "volumeHandle": "fs-0123456789abcdef0"},
    });
    if let Some(claim_ref) = claim_ref {
        spec["claimRef"] = claim_ref;
    }
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
}

fn claim(name: &str, class: &str, size: &str, volume_name: Option<&str>) -> PersistentVolumeClaim {
    let mut spec = json!({
        "accessModes": ["ReadWriteMany"],
        "storageClassName": class,
        "resources": {"requests": {"storage": size}},
    });
    if let Some(volume_name) = volume_name {
        spec["volumeName"] = json!(volume_name);
    }
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
}

fn claim_phase(claim: &PersistentVolumeClaim) -> &str {
    claim
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or_default()
}

fn volume_phase(volume: &PersistentVolume) -> &str {
    volume
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or_default()
}

#[tokio::test]
async fn claims_bind_only_to_volumes_that_satisfy_them() {
    let kube = start(config()).await;
    let client = client(&kube);
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    let post = PostParams::default();

    volumes
        .create(&post, &volume("efs-pv", "efs-sc", "5Gi", None))
        .await
        .unwrap();
    let reserved = json!({"namespace": "default", "name": "reserved-claim"});
    volumes
        .create(&post, &volume("reserved-pv", "efs-sc", "5Gi", Some(reserved)))
        .await
        .unwrap();
    volumes
        .create(&post, &volume("named-pv", "efs-sc", "5Gi", None))
        .await
        .unwrap();

    let create = |claim: PersistentVolumeClaim| {
        let claims = claims.clone();
        async move {
            let name = claims
                .create(&PostParams::default(), &claim)
                .await
                .unwrap()
                .metadata
                .name
                .unwrap();
            claims.get(&name).await.unwrap() // the create response is the claim before the binder saw it
        }
    };
    let other_class = create(claim("other-class", "gp2", "1Gi", None)).await;
    assert_eq!(claim_phase(&other_class), "Pending");
    let too_big = create(claim("too-big", "efs-sc", "6Gi", None)).await;
    assert_eq!(claim_phase(&too_big), "Pending");

    let named = create(claim("named", "efs-sc", "1Gi", Some("named-pv"))).await;
    assert_eq!(claim_phase(&named), "Bound");
    assert_eq!(named.spec.unwrap().volume_name.as_deref(), Some("named-pv"));

    let any = create(claim("any", "efs-sc", "5Gi", None)).await;
    assert_eq!(claim_phase(&any), "Bound");
    assert_eq!(
        any.spec.unwrap().volume_name.as_deref(),
        Some("efs-pv"),
        "reserved-pv is for another claim"
    );
    let bound = volumes.get("efs-pv").await.unwrap();
    assert_eq!(volume_phase(&bound), "Bound");
    let claim_ref = bound.spec.unwrap().claim_ref.unwrap();
    assert_eq!(
        (claim_ref.namespace.as_deref(), claim_ref.name.as_deref()),
        (Some("default"), Some("any"))
    );

    let reserved = create(claim("reserved-claim", "efs-sc", "1Gi", None)).await;
    assert_eq!(reserved.spec.unwrap().volume_name.as_deref(), Some("reserved-pv"));

    claims.delete("any", &DeleteParams::default()).await.unwrap();
    assert_eq!(volume_phase(&volumes.get("efs-pv").await.unwrap()), "Released");
    let again = create(claim("any", "efs-sc", "5Gi", None)).await;
    assert_eq!(
        claim_phase(&again),
        "Pending",
        "a Released (Retain) volume does not bind again"
    );
}

#[tokio::test]
async fn deleting_a_namespace_deletes_what_it_contains() {
    let kube = start(config()).await;
    let client = client(&kube);
    let post = PostParams::default();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &post,
            &serde_json::from_value(json!({"metadata": {"name": "doomed"}})).unwrap(),
        )
        .await
        .unwrap();
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    volumes
        .create(&post, &volume("kept-pv", "efs-sc", "5Gi", None))
        .await
        .unwrap();
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "doomed");
    claims
        .create(&post, &claim("data", "efs-sc", "5Gi", None))
        .await
        .unwrap();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "doomed");
    config_maps
        .create(
            &post,
            &serde_json::from_value(json!({"metadata": {"name": "cm"}})).unwrap(),
        )
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "doomed");
    let pod = json!({"metadata": {"name": "idle"}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}});
    pods.create(&post, &serde_json::from_value(pod).unwrap()).await.unwrap();

    namespaces.delete("doomed", &DeleteParams::default()).await.unwrap();
    assert!(namespaces.get_opt("doomed").await.unwrap().is_none());
    let all_config_maps: Api<ConfigMap> = Api::all(client.clone());
    assert!(
        all_config_maps
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let all_pods: Api<Pod> = Api::all(client.clone());
    assert!(all_pods.list(&ListParams::default()).await.unwrap().items.is_empty());
    assert_eq!(volume_phase(&volumes.get("kept-pv").await.unwrap()), "Released");
}
