//! Failures come back as `Status` objects with the API server's reason, code and details.

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolume, Pod};
use kube::api::{Api, DeleteParams, PostParams};
use kube::core::response::{Status, StatusSummary};
use serde_json::{Value, json};

use crate::common::{client, config, start};

fn api_error(error: kube::Error) -> Status {
    match error {
        kube::Error::Api(status) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn create_error<K>(api: &Api<K>, body: Value) -> Status
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + serde::Serialize,
{
    let object: K = serde_json::from_value(body).unwrap();
    api_error(api.create(&PostParams::default(), &object).await.unwrap_err())
}

#[tokio::test]
async fn conflicts_missing_objects_and_invalid_objects_have_status_shapes() {
    let kube = start(config()).await;
    let client = client(&kube);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let cm = json!({"metadata": {"name": "cm"}});
    config_maps
        .create(&PostParams::default(), &serde_json::from_value(cm.clone()).unwrap())
        .await
        .unwrap();

    let conflict = create_error(&config_maps, cm).await;
    assert_eq!(conflict.status, Some(StatusSummary::Failure));
    assert_eq!((conflict.code, conflict.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(conflict.message, "configmaps \"cm\" already exists");
    let details = conflict.details.unwrap();
    assert_eq!((details.name.as_str(), details.kind.as_str()), ("cm", "configmaps"));

    let missing = api_error(config_maps.get("nope").await.unwrap_err());
    assert_eq!((missing.code, missing.reason.as_str()), (404, "NotFound"));
    assert_eq!(missing.message, "configmaps \"nope\" not found");
    let missing = api_error(config_maps.delete("nope", &DeleteParams::default()).await.unwrap_err());
    assert_eq!(missing.code, 404);
    let elsewhere: Api<ConfigMap> = Api::namespaced(client.clone(), "no-such-namespace");
    let no_namespace = create_error(&elsewhere, json!({"metadata": {"name": "cm"}})).await;
    assert_eq!(no_namespace.message, "namespaces \"no-such-namespace\" not found");

    let namespaces: Api<Namespace> = Api::all(client.clone());
    let bad_name = create_error(&namespaces, json!({"metadata": {"name": "Bad_Name"}})).await;
    assert_eq!((bad_name.code, bad_name.reason.as_str()), (422, "Invalid"));
    assert!(
        bad_name
            .message
            .starts_with("Namespace \"Bad_Name\" is invalid: metadata.name: Invalid value")
    );
    let no_name = create_error(&config_maps, json!({"metadata": {}})).await;
    assert_eq!(no_name.code, 422);
    assert!(
        no_name.message.contains("metadata.name: Required value"),
        "{}",
        no_name.message
    );

    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    let no_capacity = create_error(
        &volumes,
        json!({"metadata": {"name": "pv"}, "spec": {"csi": {"driver": "efs.csi.aws.com", "volumeHandle": "fs-1"}}}),
    )
    .await;
    assert_eq!(no_capacity.code, 422);
    let causes: Vec<String> = no_capacity
        .details
        .unwrap()
        .causes
        .into_iter()
        .map(|c| c.field)
        .collect();
    assert_eq!(causes, ["spec.capacity", "spec.accessModes"]);

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let no_containers = create_error(&pods, json!({"metadata": {"name": "p"}, "spec": {"containers": []}})).await;
    assert_eq!(no_containers.code, 422);
    assert_eq!(
        no_containers.message,
        "Pod \"p\" is invalid: spec.containers: Required value"
    );
}
