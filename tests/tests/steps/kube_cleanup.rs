//! epic06 (Kubernetes part) against moto and the fake API server: two namespaces on one cluster
//! do not collide, cleanup leaves nothing of ours, and what the workflow did not create (a
//! StorageClass, a CSIDriver, Fargate's logging configuration, a namespace and what is in it) is
//! left as it was.

use efs_fargate_core::k8s::{Kube, describe};
use efs_fargate_core::ownership::{MANAGED_BY_KEY, MANAGED_BY_VALUE, NAMESPACE_KEY, RUN_ID_KEY};
use efs_fargate_core::resources::NOT_RECORDED;
use efs_fargate_core::resources::logging::{CONFIG_MAP, NAMESPACE as OBSERVABILITY};
use efs_fargate_core::resources::storage_objects::{CSI_DRIVER, STORAGE_CLASS};
use efs_fargate_core::steps::cleanup::{CleanupAction, cleanup};
use efs_fargate_core::steps::k8s::validate::ValidateAction;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::rbac::v1::RoleBinding;
use k8s_openapi::api::storage::v1::{CSIDriver, CSIDriverSpec, StorageClass};
use k8s_openapi::serde::de::DeserializeOwned;
use kube::Resource;
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use serde_json::{Value, json};
use std::fmt::Debug;
use workflow_tests::{CLUSTER, NAMESPACE, World, cleanup_event, error_name};

async fn labelled<K>(kube: &Kube, api: Api<K>) -> Vec<String>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    // With a run id: a namespace an administrator labelled for adoption carries only managed-by.
    let params = ListParams::default().labels(&format!("{MANAGED_BY_KEY}={MANAGED_BY_VALUE},{RUN_ID_KEY}"));
    kube.list(&api, &params).await.unwrap().iter().map(describe).collect()
}

/// Every object on the cluster, in any namespace, that carries the workflow's labels.
async fn ours(kube: &Kube) -> Vec<String> {
    let client = || kube.client.clone();
    let mut found = labelled(kube, Api::<Pod>::all(client())).await;
    found.extend(labelled(kube, Api::<RoleBinding>::all(client())).await);
    found.extend(labelled(kube, Api::<ConfigMap>::all(client())).await);
    found.extend(labelled(kube, Api::<PersistentVolumeClaim>::all(client())).await);
    found.extend(labelled(kube, Api::<PersistentVolume>::all(client())).await);
    found.extend(labelled(kube, Api::<StorageClass>::all(client())).await);
    found.extend(labelled(kube, Api::<CSIDriver>::all(client())).await);
    found.extend(labelled(kube, Api::<Namespace>::all(client())).await);
    found
}

fn foreign_meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(str::to_string),
        labels: Some([("owner".to_string(), "platform-team".to_string())].into()),
        ..ObjectMeta::default()
    }
}

#[tokio::test]
async fn two_namespaces_share_a_cluster_without_collisions_and_the_last_one_out_removes_the_storage() {
    let world = World::with_kube().await;
    let fake = world.fake();
    let (run_a, fs_a) = world.app_running("team-a").await;
    let (run_b, fs_b) = world.app_running("team-b").await;
    assert_ne!(fs_a, fs_b);
    for (run, fs) in [(&run_a, &fs_a), (&run_b, &fs_b)] {
        let namespace = &run.request.namespace;
        let volume = fake
            .object("PersistentVolume", None, &format!("poc-app-pv-{namespace}"))
            .expect("one PV per namespace");
        // `fs-…::fsap-…`: each namespace's file system, through its own access point.
        let handle = volume["spec"]["csi"]["volumeHandle"].as_str().unwrap();
        assert!(handle.starts_with(&format!("{fs}::fsap-")), "{handle}");
        assert_eq!(volume["spec"]["claimRef"]["namespace"], namespace.as_str());
        let pod = fake.object("Pod", Some(namespace), "poc-app1").unwrap();
        assert_eq!(pod["status"]["phase"], "Running", "{namespace}");
    }
    let class = fake.object("StorageClass", None, STORAGE_CLASS).unwrap();
    assert_eq!(
        class["metadata"]["labels"][NAMESPACE_KEY], "team-a",
        "created once, by the first run"
    );

    let kube = world.kube().await;
    let log = world.clean_up_kubernetes("team-a").await;
    let last = log.last().unwrap();
    assert_eq!(
        last.output.kept,
        [format!(
            "what the namespaces of cluster {CLUSTER} share (still used by namespaces team-b)"
        )],
        "the ledger records team-b's objects: {last:?}"
    );
    for shared in [
        fake.object("StorageClass", None, STORAGE_CLASS),
        fake.object("CSIDriver", None, CSI_DRIVER),
    ] {
        assert!(shared.is_some(), "team-b still needs the storage objects");
    }
    let left = ours(&kube).await;
    assert!(left.iter().all(|o| !o.contains("team-a")), "{left:?}");
    for object in [
        "namespace/team-b".to_string(),
        format!("namespace/{OBSERVABILITY}"),
        format!("configmap/{OBSERVABILITY}/{CONFIG_MAP}"),
    ] {
        assert!(left.contains(&object), "{object} in {left:?}");
    }
    assert_eq!(
        fake.object("Pod", Some("team-b"), "poc-app2").unwrap()["status"]["phase"],
        "Running"
    );
    assert!(fake.object("Namespace", None, "team-a").is_none());

    let log = world.clean_up_kubernetes("team-b").await;
    let removed: Vec<&String> = log.iter().flat_map(|p| &p.output.removed).collect();
    for object in [
        format!("namespace/{OBSERVABILITY}"),
        format!("configmap/{OBSERVABILITY}/{CONFIG_MAP}"),
    ] {
        assert!(removed.contains(&&object), "{object} in {removed:?}");
    }
    assert_eq!(
        ours(&kube).await,
        Vec::<String>::new(),
        "the last namespace out removes the shared objects"
    );
    let again = world.clean_up_kubernetes("team-b").await;
    assert_eq!(again.len(), 1);
    assert!(again[0].output.removed.is_empty(), "{again:?}");
}

#[tokio::test]
async fn cleanup_leaves_nothing_of_ours_and_nothing_it_did_not_create() {
    let world = World::with_kube().await;
    let fake = world.fake();
    let kube = world.kube().await;
    let post = PostParams::default();
    kube.all::<Namespace>()
        .create(
            &post,
            &Namespace {
                // Labelled by an administrator for adoption, as the admission policy requires.
                metadata: ObjectMeta {
                    labels: Some(
                        [
                            ("owner".to_string(), "platform-team".to_string()),
                            (MANAGED_BY_KEY.to_string(), MANAGED_BY_VALUE.to_string()),
                        ]
                        .into(),
                    ),
                    ..foreign_meta(NAMESPACE, None)
                },
                ..Namespace::default()
            },
        )
        .await
        .unwrap();
    let driver = CSIDriver {
        metadata: foreign_meta(CSI_DRIVER, None),
        spec: CSIDriverSpec {
            attach_required: Some(false),
            ..CSIDriverSpec::default()
        },
    };
    kube.all::<CSIDriver>().create(&post, &driver).await.unwrap();
    let class = StorageClass {
        metadata: foreign_meta(STORAGE_CLASS, None),
        provisioner: CSI_DRIVER.into(),
        ..StorageClass::default()
    };
    kube.all::<StorageClass>().create(&post, &class).await.unwrap();
    let config = ConfigMap {
        metadata: foreign_meta("platform-settings", Some(NAMESPACE)),
        ..ConfigMap::default()
    };
    kube.namespaced::<ConfigMap>(NAMESPACE)
        .create(&post, &config)
        .await
        .unwrap();
    let observability = Namespace {
        metadata: foreign_meta(OBSERVABILITY, None),
        ..Namespace::default()
    };
    kube.all::<Namespace>().create(&post, &observability).await.unwrap();
    let logging = ConfigMap {
        metadata: foreign_meta(CONFIG_MAP, Some(OBSERVABILITY)),
        ..ConfigMap::default()
    };
    kube.namespaced::<ConfigMap>(OBSERVABILITY)
        .create(&post, &logging)
        .await
        .unwrap();
    let foreign = || -> Vec<Value> {
        vec![
            fake.object("Namespace", None, NAMESPACE).unwrap(),
            fake.object("CSIDriver", None, CSI_DRIVER).unwrap(),
            fake.object("StorageClass", None, STORAGE_CLASS).unwrap(),
            fake.object("ConfigMap", Some(NAMESPACE), "platform-settings").unwrap(),
            fake.object("Namespace", None, OBSERVABILITY).unwrap(),
            fake.object("ConfigMap", Some(OBSERVABILITY), CONFIG_MAP).unwrap(),
        ]
    };
    let before = foreign();

    // Without the adopt switch the namespace someone else made is a conflict, before anything.
    let run = world.run(NAMESPACE).await;
    let (name, _) = error_name(world.ensure_namespace_with(&kube, &run).await);
    assert_eq!(name, "NamespaceConflict");
    let (run, fs) = world
        .app_running_for(json!({"clusterName": CLUSTER, "namespace": NAMESPACE, "adopt": ["namespace"]}))
        .await;
    for action in [
        ValidateAction::CrossRead,
        ValidateAction::Persistence,
        ValidateAction::Report,
    ] {
        world.validated(&run, &fs, action).await;
    }
    assert!(!ours(&kube).await.is_empty());

    let log = world.clean_up_kubernetes(NAMESPACE).await;
    let removed: Vec<&String> = log.iter().flat_map(|p| &p.output.removed).collect();
    for object in [
        format!("pod/{NAMESPACE}/poc-app-validation"),
        format!("persistentvolumeclaim/{NAMESPACE}/poc-app-validation-pvc"),
        format!("persistentvolume/poc-app-validation-pv-{NAMESPACE}"),
        format!("configmap/{NAMESPACE}/poc-app-validation"),
        // Its rights in the namespace it keeps: removed last.
        format!("rolebinding/{NAMESPACE}/efs-fargate-workflow"),
    ] {
        assert!(removed.contains(&&object), "{object} in {removed:?}");
    }
    let kept = &log.last().unwrap().output.kept;
    for object in [
        format!("namespace/{NAMESPACE}"),
        format!("storageclass/{STORAGE_CLASS}"),
        format!("csidriver/{CSI_DRIVER}"),
        format!("namespace/{OBSERVABILITY}"),
        format!("configmap/{OBSERVABILITY}/{CONFIG_MAP}"),
    ] {
        let object = format!("{object} ({NOT_RECORDED})");
        assert!(kept.contains(&object), "{object} in {kept:?}");
    }
    assert_eq!(ours(&kube).await, Vec::<String>::new());
    assert_eq!(foreign(), before, "untouched");

    let again = world.clean_up_kubernetes(NAMESPACE).await;
    assert!(again.iter().all(|p| p.output.removed.is_empty()), "{again:?}");
    assert_eq!(foreign(), before);
}

#[tokio::test]
async fn a_cluster_that_no_longer_exists_is_already_clean() {
    let world = World::empty().await;
    let event = cleanup_event(CleanupAction::Kubernetes, "gone", NAMESPACE);
    let progress = cleanup(&world.clients, &world.settings, event).await.unwrap();
    assert!(
        progress.ready && progress.output.removed.is_empty() && progress.output.kept.is_empty(),
        "{progress:?}"
    );
}
