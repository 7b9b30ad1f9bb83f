//! The Kubernetes steps of provisioning (epic01 namespace, epic04 PoC app; epic03 is in
//! `kube_storage.rs`) against moto and the fake API server: what exists afterwards, and that
//! running a step again changes nothing.

use efs_fargate_core::k8s::Kube;
use efs_fargate_core::ownership::{CLUSTER_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE, NAMESPACE_KEY, RUN_ID_KEY};
use efs_fargate_core::resources::Kind;
use efs_fargate_core::resources::rbac::RbacState;
use efs_fargate_core::resources::workload::EfsVolume;
use efs_fargate_core::resources::workload::manifests::{self, APP};
use efs_fargate_core::run::Run;
use efs_fargate_core::steps::fargate::{self, FargateAction, FargateOutput};
use efs_fargate_core::steps::k8s::poc_app::PocAppAction;
use k8s_openapi::api::core::v1::PersistentVolume;
use kube::api::PostParams;
use serde_json::{Value, json};
use workflow_tests::{CLUSTER, NAMESPACE, World, error_name, kube_step, step};

/// A file system id for the steps that only name one (moto has no such file system).
pub(super) const FS: &str = "fs-12345678";

pub(super) fn labels(object: &Value) -> &Value {
    &object["metadata"]["labels"]
}

/// A world with the fake API server, the default run prepared and its namespace created.
pub(super) async fn namespace_created() -> (World, Run, Kube) {
    let world = World::with_kube().await;
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;
    let kube = world.kube().await;
    world.ensure_namespace_with(&kube, &run).await.unwrap();
    (world, run, kube)
}

#[tokio::test]
async fn the_fargate_step_creates_the_namespace_once_and_labels_it() {
    let world = World::with_kube().await;
    let fake = world.fake();
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;
    // The two calls the state machine makes: `namespace` (CreateNamespace), then `converge`.
    let create = async || {
        let call = async |action| {
            fargate::handle(&world.clients, &world.settings, step(action, &run))
                .await
                .unwrap()
                .output
        };
        match (
            call(FargateAction::Namespace).await,
            call(FargateAction::Converge).await,
        ) {
            (FargateOutput::Namespace(namespace), FargateOutput::Profile(profile)) => (namespace, profile),
            other => panic!("namespace, then the profile: {other:?}"),
        }
    };

    let first = create().await;
    assert!(first.0.created && first.1.created);
    assert_eq!(first.0.name, NAMESPACE);
    let output = serde_json::to_value(&first.0).unwrap();
    assert_eq!(
        output,
        json!({"name": NAMESPACE, "created": true, "rbac": "installed", "bootstrapGranted": false})
    );
    assert_eq!(
        serde_json::to_value(&first.1).unwrap()["profileName"],
        format!("fp-{NAMESPACE}")
    );

    let namespace = fake.object("Namespace", None, NAMESPACE).expect("the namespace exists");
    assert_eq!(labels(&namespace)[MANAGED_BY_KEY], MANAGED_BY_VALUE);
    assert_eq!(labels(&namespace)[CLUSTER_KEY], CLUSTER);
    assert_eq!(labels(&namespace)[NAMESPACE_KEY], NAMESPACE);
    assert_eq!(labels(&namespace)[RUN_ID_KEY], "run-1");

    let again = create().await;
    assert!(!again.0.created && !again.1.created, "nothing new: {again:?}");
    assert_eq!(again.0.rbac, RbacState::Current, "the RBAC installed by the first call");
    assert_eq!(again.1.profile_arn, first.1.profile_arn);
    let unchanged = fake.object("Namespace", None, NAMESPACE).unwrap();
    assert_eq!(unchanged["metadata"]["uid"], namespace["metadata"]["uid"]);
}

#[tokio::test]
async fn the_poc_app_runs_on_a_static_volume_and_writes_both_files() {
    let world = World::with_kube().await;
    let fake = world.fake();
    let (run, fs) = world.app_running(NAMESPACE).await;

    let volume_name = format!("poc-app-pv-{NAMESPACE}");
    let volume = fake
        .object("PersistentVolume", None, &volume_name)
        .expect("the PV exists");
    let access_point = world.access_point_id(&run, &fs).await;
    assert_eq!(
        volume["spec"]["csi"]["volumeHandle"],
        format!("{fs}::{access_point}"),
        "the plain fs-…::fsap-… form"
    );
    assert_eq!(volume["spec"]["csi"]["volumeAttributes"]["encryptInTransit"], "true");
    assert_eq!(volume["spec"]["persistentVolumeReclaimPolicy"], "Retain");
    assert_eq!(volume["spec"]["claimRef"]["name"], "poc-app-pvc");
    assert_eq!(volume["spec"]["claimRef"]["namespace"], NAMESPACE);
    let claim = fake
        .object("PersistentVolumeClaim", Some(NAMESPACE), "poc-app-pvc")
        .unwrap();
    assert_eq!(claim["status"]["phase"], "Bound");
    for (name, n) in [("poc-app1", 1), ("poc-app2", 2)] {
        let pod = fake.object("Pod", Some(NAMESPACE), name).expect("the pod exists");
        assert_eq!(pod["status"]["phase"], "Running");
        assert_eq!(
            pod["spec"]["securityContext"],
            json!({"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": true})
        );
        let container = &pod["spec"]["containers"][0];
        assert_eq!(container["image"], manifests::IMAGE);
        assert_eq!(container["command"], json!(manifests::app_command(n)));
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(container["securityContext"]["allowPrivilegeEscalation"], false);
        assert_eq!(container["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
        assert!(container["resources"]["requests"]["cpu"].is_string());
        assert_eq!(labels(&pod)[MANAGED_BY_KEY], MANAGED_BY_VALUE);
    }
    // Through the access point: in the namespace's directory of the file system.
    let files = fake.store_files(&fs);
    assert!(
        files
            .get(&format!("/{NAMESPACE}/out1.txt"))
            .is_some_and(|f| f.contains("- PoC APP 1")),
        "{files:?}"
    );
    assert!(
        files
            .get(&format!("/{NAMESPACE}/out2.txt"))
            .is_some_and(|f| f.contains("- PoC APP 2")),
        "{files:?}"
    );

    // Again, as a re-run would: the same objects, nothing new.
    let uids =
        || ["poc-app1", "poc-app2"].map(|p| fake.object("Pod", Some(NAMESPACE), p).unwrap()["metadata"]["uid"].clone());
    let before = uids();
    for _ in 0..2 {
        let status = world
            .poc_app(kube_step(
                PocAppAction::Converge,
                &run,
                &fs,
                &world.access_point_id(&run, &fs).await,
                0,
            ))
            .await
            .unwrap();
        assert!(status.ready, "{status:?}");
    }
    assert_eq!(uids(), before);
    let kube = world.kube().await;
    let volumes = kube
        .list(&kube.all::<PersistentVolume>(), &Default::default())
        .await
        .unwrap();
    assert_eq!(volumes.len(), 1);
}

#[tokio::test]
async fn pods_stay_pending_while_no_active_fargate_profile_selects_the_namespace() {
    let (world, run, _) = namespace_created().await;
    world.storage_created(&run, FS).await;

    // No Fargate profile at all.
    let access_point = world.access_point_id(&run, FS).await;
    let mut status = None;
    for attempt in 0..15 {
        let polled = world
            .poc_app(kube_step(PocAppAction::Converge, &run, FS, &access_point, attempt))
            .await
            .unwrap();
        assert!(!polled.ready, "{polled:?}");
        status = Some(polled);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let status = status.unwrap();
    assert!(status.output.claim_bound);
    assert_eq!(status.output.pods.len(), 2);
    for pod in &status.output.pods {
        assert_eq!(pod.phase, "Pending", "{pod:?}");
        assert!(pod.reason.is_some() || !pod.events.is_empty(), "says why: {pod:?}");
    }
    assert!(status.detail.contains("Pending"), "{}", status.detail);
    assert!(status.next_poll_seconds > 0);

    // The profile arrives (moto makes it ACTIVE at once): the same pods start.
    world.ensure_profile(&run).await.unwrap();
    world.poc_app_running(&run, FS).await;
}

#[tokio::test]
async fn no_pod_is_created_while_the_claim_is_unbound() {
    let (world, run, kube) = namespace_created().await;
    world.ensure_profile(&run).await.unwrap();
    world.storage_created(&run, FS).await;
    // Our volume, but one no claim of class efs-sc can bind to.
    let access_point = world.access_point_id(&run, FS).await;
    let ours = EfsVolume {
        file_system_id: FS,
        access_point_id: &access_point,
    };
    let mut volume = manifests::persistent_volume(&run, APP, ours);
    volume.spec.as_mut().unwrap().storage_class_name = Some("another-class".into());
    world
        .apply_recorded(&run, Kind::PersistentVolume, &kube.all(), &volume)
        .await;

    for attempt in 0..5 {
        let status = world
            .poc_app(kube_step(PocAppAction::Converge, &run, FS, &access_point, attempt))
            .await
            .unwrap();
        assert!(!status.ready && !status.output.claim_bound, "{status:?}");
        assert!(status.output.pods.is_empty());
        assert!(
            status.detail.contains("claim poc-app-pvc is Pending"),
            "{}",
            status.detail
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(world.fake().object("Pod", Some(NAMESPACE), "poc-app1").is_none());
    assert!(world.fake().object("Pod", Some(NAMESPACE), "poc-app2").is_none());
}

#[tokio::test]
async fn a_volume_of_ours_bound_elsewhere_or_on_another_file_system_is_a_conflict() {
    let (world, run, kube) = namespace_created().await;
    let create = async |fs| {
        error_name(
            world
                .poc_app(kube_step(
                    PocAppAction::Converge,
                    &run,
                    fs,
                    &world.access_point_id(&run, fs).await,
                    0,
                ))
                .await,
        )
    };
    let access_point = world.access_point_id(&run, FS).await;
    let ours = EfsVolume {
        file_system_id: FS,
        access_point_id: &access_point,
    };
    let mut volume = manifests::persistent_volume(&run, APP, ours);
    volume.spec.as_mut().unwrap().claim_ref.as_mut().unwrap().name = Some("someone-elses-claim".into());
    world
        .apply_recorded(&run, Kind::PersistentVolume, &kube.all(), &volume)
        .await;
    let (name, err) = create(FS).await;
    assert_eq!(name, "PersistentVolumeConflict");
    assert!(err.to_string().contains("someone-elses-claim"), "{err}");

    let (name, err) = create("fs-87654321").await;
    assert_eq!(name, "PersistentVolumeConflict");
    assert!(err.to_string().contains(FS), "{err}");

    // A namespace object of our name that the workflow did not create is never adopted.
    kube.delete(
        &kube.all::<PersistentVolume>(),
        &APP.volume_name(&run.request.namespace),
    )
    .await
    .unwrap();
    let mut foreign = manifests::claim(&run, APP);
    foreign.metadata.labels = None;
    kube.namespaced(NAMESPACE)
        .create(&PostParams::default(), &foreign)
        .await
        .unwrap();
    let (name, err) = create(FS).await;
    assert_eq!(name, "KubernetesObjectConflict", "{err}");
}
