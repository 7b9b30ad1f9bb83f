//! epic03 against the fake API server: the shared CSIDriver and StorageClass and Fargate's logging
//! configuration, created when missing with our labels, reused on a re-run, and someone else's
//! used as they are.

use super::kube_provision::{FS, labels};
use efs_fargate_core::k8s::Kube;
use efs_fargate_core::ownership::{MANAGED_BY_KEY, MANAGED_BY_VALUE, NAMESPACE_KEY};
use efs_fargate_core::resources::kube_object::Origin;
use efs_fargate_core::resources::logging::{CONFIG_MAP, NAMESPACE as OBSERVABILITY};
use efs_fargate_core::settings::DEFAULT_FARGATE_LOG_GROUP;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::api::storage::v1::{CSIDriver, CSIDriverSpec, StorageClass};
use kube::api::{ObjectMeta, PostParams};
use serde_json::json;
use workflow_tests::{CLUSTER, NAMESPACE, World};

#[tokio::test]
async fn storage_objects_are_created_when_missing_then_reused() {
    let world = World::with_kube().await;
    let fake = world.fake();
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;

    let first = world.storage_created(&run, FS).await;
    assert_eq!(first.csi_driver.origin, Origin::Created);
    assert_eq!(first.storage_class.origin, Origin::Created);
    let driver = fake.object("CSIDriver", None, "efs.csi.aws.com").unwrap();
    assert_eq!(driver["spec"]["attachRequired"], false);
    assert_eq!(labels(&driver)[MANAGED_BY_KEY], MANAGED_BY_VALUE);
    let class = fake.object("StorageClass", None, "efs-sc").unwrap();
    assert_eq!(class["provisioner"], "efs.csi.aws.com");
    assert_eq!(labels(&class)[NAMESPACE_KEY], NAMESPACE);

    let again = world.storage_created(&run, FS).await;
    assert_eq!(again.csi_driver.origin, Origin::Workflow);
    assert_eq!(again.storage_class.origin, Origin::Workflow);
    let class_again = fake.object("StorageClass", None, "efs-sc").unwrap();
    assert_eq!(
        class_again["metadata"]["resourceVersion"],
        class["metadata"]["resourceVersion"]
    );
}

#[tokio::test]
async fn a_foreign_csi_driver_and_storage_class_are_used_as_they_are() {
    let world = World::with_kube().await;
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;
    seed_foreign_storage(&world.kube().await).await;
    let storage_objects = || {
        (
            world.fake().object("CSIDriver", None, "efs.csi.aws.com").unwrap(),
            world.fake().object("StorageClass", None, "efs-sc").unwrap(),
        )
    };
    let before = storage_objects();

    let output = world.storage_created(&run, FS).await;
    assert_eq!(output.csi_driver.origin, Origin::Existing);
    assert_eq!(output.storage_class.origin, Origin::Existing);
    assert_eq!(storage_objects(), before, "neither labelled nor changed");
}

#[tokio::test]
async fn fargate_logging_is_configured_once_per_cluster_with_our_labels() {
    let world = World::with_kube().await;
    let fake = world.fake();
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;

    let first = world.storage_created(&run, FS).await.logging;
    assert_eq!(first.namespace.origin, Origin::Created);
    assert_eq!(first.config_map.origin, Origin::Created);
    assert_eq!(first.log_group, DEFAULT_FARGATE_LOG_GROUP);
    let namespace = fake.object("Namespace", None, OBSERVABILITY).unwrap();
    assert_eq!(
        labels(&namespace)["aws-observability"],
        "enabled",
        "Fargate ignores it otherwise"
    );
    assert_eq!(labels(&namespace)[MANAGED_BY_KEY], MANAGED_BY_VALUE);
    let config = fake.object("ConfigMap", Some(OBSERVABILITY), CONFIG_MAP).unwrap();
    assert_eq!(labels(&config)[NAMESPACE_KEY], NAMESPACE);
    let output = config["data"]["output.conf"].as_str().unwrap();
    for line in [
        "Name cloudwatch_logs",
        &format!("region {}", world.clients.config.region().unwrap()),
        &format!("log_group_name {DEFAULT_FARGATE_LOG_GROUP}"),
        &format!("log_stream_prefix {CLUSTER}/"),
        "auto_create_group false",
    ] {
        assert!(output.contains(line), "{line} in {output}");
    }

    let again = world.storage_created(&run, FS).await.logging;
    assert_eq!(again.namespace.origin, Origin::Workflow);
    assert_eq!(again.config_map.origin, Origin::Workflow);
    let config_again = fake.object("ConfigMap", Some(OBSERVABILITY), CONFIG_MAP).unwrap();
    assert_eq!(config_again, config, "never changed");
}

#[tokio::test]
async fn a_foreign_logging_configuration_is_used_as_it_is() {
    let world = World::with_kube().await;
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;
    let kube = world.kube().await;
    let meta = |name: &str, namespace: Option<&str>| ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(str::to_string),
        labels: Some([("aws-observability".to_string(), "enabled".to_string())].into()),
        ..ObjectMeta::default()
    };
    let post = PostParams::default();
    let namespace = Namespace {
        metadata: meta(OBSERVABILITY, None),
        ..Namespace::default()
    };
    kube.all::<Namespace>().create(&post, &namespace).await.unwrap();
    let config = ConfigMap {
        metadata: meta(CONFIG_MAP, Some(OBSERVABILITY)),
        data: Some(
            [(
                "output.conf".to_string(),
                "[OUTPUT]\n    Name kinesis_firehose\n".to_string(),
            )]
            .into(),
        ),
        ..ConfigMap::default()
    };
    kube.namespaced::<ConfigMap>(OBSERVABILITY)
        .create(&post, &config)
        .await
        .unwrap();
    let objects = || {
        (
            world.fake().object("Namespace", None, OBSERVABILITY).unwrap(),
            world
                .fake()
                .object("ConfigMap", Some(OBSERVABILITY), CONFIG_MAP)
                .unwrap(),
        )
    };
    let before = objects();

    let output = world.storage_created(&run, FS).await.logging;
    assert_eq!(output.namespace.origin, Origin::Existing);
    assert_eq!(output.config_map.origin, Origin::Existing);
    assert_eq!(objects(), before, "neither labelled nor changed");
}

/// An EKS-shipped CSIDriver and an operator's StorageClass, without our labels.
async fn seed_foreign_storage(kube: &Kube) {
    let meta = |name: &str| ObjectMeta {
        name: Some(name.into()),
        labels: Some([("owner".to_string(), "platform-team".to_string())].into()),
        ..ObjectMeta::default()
    };
    let driver = CSIDriver {
        metadata: meta("efs.csi.aws.com"),
        spec: CSIDriverSpec {
            attach_required: Some(false),
            ..CSIDriverSpec::default()
        },
    };
    kube.all::<CSIDriver>()
        .create(&PostParams::default(), &driver)
        .await
        .unwrap();
    let class = StorageClass {
        metadata: meta("efs-sc"),
        provisioner: "efs.csi.aws.com".into(),
        ..StorageClass::default()
    };
    kube.all::<StorageClass>()
        .create(&PostParams::default(), &class)
        .await
        .unwrap();
}
