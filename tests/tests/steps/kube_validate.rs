//! epic05 against moto and the fake API server: the cross-read, the persistence check and the
//! report, each run twice, and the failures that must be `ValidationFailed` with evidence.

use efs_fargate_core::resources::Kind;
use efs_fargate_core::run::Run;
use efs_fargate_core::steps::k8s::validate::{self, ValidateAction};
use k8s_openapi::api::core::v1::{Event, PersistentVolume, PersistentVolumeClaim, Pod};
use kube::Api;
use kube::api::{ListParams, LogParams, PostParams};
use serde_json::{Value, json};
use workflow_tests::{NAMESPACE, World, error_name, kube_step};

/// A world with the fake API server and the PoC app running in [`NAMESPACE`]: the run and its
/// file system id.
async fn app_running() -> (World, Run, String) {
    let world = World::with_kube().await;
    let (run, fs) = world.app_running(NAMESPACE).await;
    (world, run, fs)
}

#[tokio::test]
async fn the_app_cross_reads_and_its_files_outlive_it() {
    let (world, run, fs) = app_running().await;
    let fake = world.fake();

    let cross = world.validated(&run, &fs, ValidateAction::CrossRead).await;
    let evidence = cross.output.cross_read.expect("cross-read evidence");
    assert!(evidence.poc_app1_read.ends_with(" - PoC APP 2"), "{evidence:?}");
    assert!(evidence.poc_app2_read.ends_with(" - PoC APP 1"), "{evidence:?}");

    // As the state machine does: `persistence` once, then `report` until ready.
    let started = world
        .validate(kube_step(
            ValidateAction::Persistence,
            &run,
            &fs,
            &world.access_point_id(&run, &fs).await,
            0,
        ))
        .await
        .unwrap();
    assert_eq!(started.attempt, 1);
    let first = world.validated(&run, &fs, ValidateAction::Report).await;
    let report = first.output.report.clone().expect("the report");
    assert_eq!(report.file_system_id, fs);
    assert_eq!((report.runs_as.uid, report.runs_as.gid), (1000, 1000), "{report:?}");
    assert_eq!(report.runs_as.root_directory, format!("/{NAMESPACE}"));
    assert!(report.runs_as.access_point_id.starts_with("fsap-"), "{report:?}");
    for file in ["/data/out1.txt", "/data/out2.txt"] {
        assert!(report.files_found.iter().any(|f| f == file), "{report:?}");
        assert!(!report.lines_read[file].is_empty(), "{report:?}");
    }
    assert_eq!(report.cross_read, Some(evidence));
    let timings = &report.timings;
    for (name, at) in [
        ("crossReadAt", &timings.cross_read_at),
        ("appsDeletedAt", &timings.apps_deleted_at),
        ("validationFinishedAt", &timings.validation_finished_at),
    ] {
        assert!(
            at.as_deref().is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok()),
            "{name}: {timings:?}"
        );
    }
    let at = |t: &Option<String>| t.as_deref().unwrap().parse::<jiff::Timestamp>().unwrap();
    assert!(at(&timings.cross_read_at) <= at(&timings.apps_deleted_at));
    let output = serde_json::to_value(&first).unwrap();
    for key in ["runsAs", "filesFound", "linesRead", "crossRead", "timings"] {
        assert!(output["output"]["report"].get(key).is_some(), "report.{key}: {output}");
    }

    for name in ["poc-app1", "poc-app2"] {
        assert!(fake.object("Pod", Some(NAMESPACE), name).is_none(), "{name} is deleted");
    }
    assert!(
        fake.object("PersistentVolumeClaim", Some(NAMESPACE), "poc-app-pvc")
            .is_none()
    );
    assert!(
        fake.object("PersistentVolume", None, &format!("poc-app-pv-{NAMESPACE}"))
            .is_none()
    );
    let validation_volume = fake
        .object("PersistentVolume", None, &format!("poc-app-validation-pv-{NAMESPACE}"))
        .expect("the validation PV");
    let access_point = world.access_point_id(&run, &fs).await;
    assert_eq!(
        validation_volume["spec"]["csi"]["volumeHandle"],
        format!("{fs}::{access_point}")
    );
    let validation_pod = fake.object("Pod", Some(NAMESPACE), "poc-app-validation").unwrap();
    assert_eq!(validation_pod["spec"]["securityContext"]["runAsNonRoot"], true);
    assert_eq!(validation_pod["spec"]["securityContext"]["runAsUser"], 1000);

    // Both again: nothing new, the same report.
    let pod_uid = || fake.object("Pod", Some(NAMESPACE), "poc-app-validation").unwrap()["metadata"]["uid"].clone();
    let first_pod = pod_uid();
    let persistence = world.validated(&run, &fs, ValidateAction::Persistence).await;
    assert!(persistence.detail.contains("poc-app-validation"), "{persistence:?}");
    let again = world.validated(&run, &fs, ValidateAction::Report).await;
    assert_eq!(
        again.output.report, first.output.report,
        "the report is read again, not redone"
    );
    assert_eq!(pod_uid(), first_pod);
}

#[tokio::test]
async fn a_second_run_is_validated_afresh_not_by_the_first_runs_pod() {
    let (world, run, fs) = app_running().await;
    let mut reports = Vec::new();
    for _ in 0..2 {
        world.poc_app_running(&run, &fs).await;
        for action in [ValidateAction::CrossRead, ValidateAction::Persistence] {
            world.validated(&run, &fs, action).await;
        }
        let output = world.validated(&run, &fs, ValidateAction::Report).await;
        reports.push(output.output.report.expect("a report"));
    }
    let at = |t: &Option<String>| t.as_deref().expect("a timing").parse::<jiff::Timestamp>().unwrap();
    let (first, second) = (&reports[0].timings, &reports[1].timings);
    assert!(at(&second.cross_read_at) > at(&first.cross_read_at));
    assert!(
        at(&second.validation_started_at) >= at(&second.apps_deleted_at),
        "the second report comes from a pod started after the second app was deleted: {second:?}"
    );
}

#[tokio::test]
async fn a_stopped_app_pod_fails_the_cross_read() {
    let (world, run, fs) = app_running().await;
    let kube = world.kube().await;
    kube.delete(&kube.namespaced::<Pod>(NAMESPACE), "poc-app2")
        .await
        .unwrap();

    let (name, err) = error_name(
        world
            .validate(kube_step(
                ValidateAction::CrossRead,
                &run,
                &fs,
                &world.access_point_id(&run, &fs).await,
                0,
            ))
            .await,
    );
    assert_eq!(name, "ValidationFailed");
    assert!(err.to_string().contains("poc-app2"), "{err}");
}

#[tokio::test]
async fn a_cross_read_that_never_shows_the_other_file_fails_with_the_logs() {
    let (world, run, fs) = app_running().await;
    // poc-app2 replaced by a pod of ours that reads nothing: its log never shows a line of out1.txt.
    let kube = world.kube().await;
    let pods = kube.namespaced::<Pod>(NAMESPACE);
    kube.delete(&pods, "poc-app2").await.unwrap();
    until_gone(&world, "poc-app2").await;
    let mut silent = efs_fargate_core::resources::workload::manifests::pod(
        &run,
        "poc-app2",
        "poc-app-pvc",
        vec!["/bin/sh".into(), "-c".into(), "while true; do sleep 5; done".into()],
        "Always",
    );
    silent
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("variant".into(), "silent".into());
    world.apply_recorded(&run, Kind::Pod, &pods, &silent).await;
    world.poc_app_running(&run, &fs).await;

    let last = validate::CROSS_READ_ATTEMPTS - 1;
    let (name, err) = error_name(
        world
            .validate(kube_step(
                ValidateAction::CrossRead,
                &run,
                &fs,
                &world.access_point_id(&run, &fs).await,
                last,
            ))
            .await,
    );
    assert_eq!(name, "ValidationFailed");
    let message = err.to_string();
    assert!(
        message.contains("poc-app1:") && message.contains("poc-app2:"),
        "the logs are the evidence: {message}"
    );
}

#[tokio::test]
async fn persistence_needs_the_cross_read_first() {
    let (world, run, fs) = app_running().await;

    let (name, err) = error_name(
        world
            .validate(kube_step(
                ValidateAction::Persistence,
                &run,
                &fs,
                &world.access_point_id(&run, &fs).await,
                0,
            ))
            .await,
    );
    assert_eq!(name, "ValidationFailed");
    assert!(err.to_string().contains("cross-read"), "{err}");
    assert!(
        world.fake().object("Pod", Some(NAMESPACE), "poc-app1").is_some(),
        "the app was not deleted"
    );
}

#[tokio::test]
async fn files_missing_after_the_app_is_deleted_fail_the_report() {
    let (world, run, fs) = app_running().await;
    world.validated(&run, &fs, ValidateAction::CrossRead).await;

    // The validation looks at another (empty) file system: the app's files are not there.
    let empty = "fs-00000000";
    world.validated(&run, empty, ValidateAction::Persistence).await;
    let mut attempt = 0;
    let err = loop {
        match world
            .validate(kube_step(
                ValidateAction::Report,
                &run,
                empty,
                &world.access_point_id(&run, empty).await,
                attempt,
            ))
            .await
        {
            Ok(output) => {
                assert!(!output.ready, "an empty file system passed: {output:?}");
                attempt = output.attempt;
                assert!(attempt < 200, "the validation pod never ended: {}", output.detail);
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(err) => break err,
        }
    };
    assert_eq!(err.error_type(), "ValidationFailed");
    let message = err.to_string();
    assert!(message.contains("/data/out1.txt was not listed"), "{message}");
    assert!(message.contains("poc-app-validation printed"), "{message}");
    assert!(
        !world.fake().store_files(&fs).is_empty(),
        "the app's own file system still has the files"
    );
}

async fn until_gone(world: &World, pod: &str) {
    for _ in 0..100 {
        if world.fake().object("Pod", Some(NAMESPACE), pod).is_none() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("pod {pod} was never deleted");
}

/// Runs a reading pod of `namespace` on a PV that names `file_system_id` without the access point,
/// as `security_context`: its log once it ended, or the `FailedMount` event's message when EFS
/// refused the mount.
async fn intruder_log(
    world: &World,
    namespace: &str,
    name: &str,
    file_system_id: &str,
    security_context: Value,
) -> Result<String, String> {
    let kube = world.kube().await;
    let pv: PersistentVolume = serde_json::from_value(json!({
        "metadata": {"name": format!("{name}-pv")},
        "spec": {"capacity": {"storage": "1Mi"}, "accessModes": ["ReadWriteMany"], "storageClassName": "efs-sc",
                 "persistentVolumeReclaimPolicy": "Retain",
                 "claimRef": {"namespace": namespace, "name": format!("{name}-pvc")},
                 "csi": {"driver": "efs.csi.aws.com", "volumeHandle": file_system_id}}
    }))
    .unwrap();
    Api::<PersistentVolume>::all(kube.client.clone())
        .create(&PostParams::default(), &pv)
        .await
        .unwrap();
    let pvc: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": format!("{name}-pvc"), "namespace": namespace},
        "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": "efs-sc", "volumeName": format!("{name}-pv"),
                 "resources": {"requests": {"storage": "1Mi"}}}
    }))
    .unwrap();
    let claims = Api::<PersistentVolumeClaim>::namespaced(kube.client.clone(), namespace);
    claims.create(&PostParams::default(), &pvc).await.unwrap();
    for _ in 0..100 {
        let bound = claims.get(&format!("{name}-pvc")).await.unwrap();
        if bound.status.and_then(|s| s.phase).as_deref() == Some("Bound") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"restartPolicy": "Never", "securityContext": security_context,
                 "containers": [{"name": name, "image": "busybox",
                                 "command": ["/bin/sh", "-c", format!("cat /data/{NAMESPACE}/out1.txt; ls /data/{NAMESPACE}")],
                                 "volumeMounts": [{"name": "efs", "mountPath": "/data"}]}],
                 "volumes": [{"name": "efs", "persistentVolumeClaim": {"claimName": format!("{name}-pvc")}}]}
    }))
    .unwrap();
    let pods = Api::<Pod>::namespaced(kube.client.clone(), namespace);
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let events = Api::<Event>::namespaced(kube.client.clone(), namespace);
    let about_the_pod = ListParams::default().fields(&format!("involvedObject.name={name}"));
    for _ in 0..200 {
        let phase = world.fake().object("Pod", Some(namespace), name).unwrap()["status"]["phase"].clone();
        if phase == "Succeeded" || phase == "Failed" {
            return Ok(pods.logs(name, &LogParams::default()).await.unwrap());
        }
        let mut refused = events.list(&about_the_pod).await.unwrap().items.into_iter();
        if let Some(event) = refused.find(|e| e.reason.as_deref() == Some("FailedMount")) {
            return Err(event.message.unwrap_or_default());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("pod {namespace}/{name} never ended");
}

#[tokio::test]
async fn a_pod_of_another_namespace_without_the_access_point_cannot_read_this_namespace_s_directory() {
    let (world, run, fs) = app_running().await;
    // The app has written through the access point: /<namespace> is 1000:1000, 0750.
    let files = world.fake().store_files(&fs);
    assert!(files.contains_key(&format!("/{NAMESPACE}/out1.txt")), "{files:?}");

    let other = world.run("team-b").await;
    world.ensure_namespace(&other).await.unwrap();
    world.ensure_profile(&other).await.unwrap();
    let root = json!({});
    let user_2000 = json!({"runAsUser": 2000, "runAsGroup": 2000});
    // The workflow's file system policy refuses a mount without the namespace's access point.
    for (name, context) in [("as-root", &root), ("as-2000", &user_2000)] {
        let refused = intruder_log(&world, "team-b", name, &fs, context.clone())
            .await
            .unwrap_err();
        assert!(
            refused.contains("access denied by server") && refused.contains("DenyOutsideNamespaceAccessPoints"),
            "{name}: {refused}"
        );
    }
    // Behind it, the directory's POSIX owner and mode: with a policy loosened to let any client
    // mount and write (never as root), root is squashed to nobody and another user is no owner
    // and no group member.
    let loosened = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], "Resource": "*"}]});
    world
        .clients
        .efs
        .put_file_system_policy()
        .file_system_id(&fs)
        .policy(loosened.to_string())
        .send()
        .await
        .unwrap();
    for (name, context) in [("loose-root", root), ("loose-2000", user_2000)] {
        let log = intruder_log(&world, "team-b", name, &fs, context).await.unwrap();
        assert!(
            log.contains(&format!(
                "cat: can't open '/data/{NAMESPACE}/out1.txt': Permission denied"
            )),
            "{name}: {log}"
        );
        assert!(
            log.contains("Permission denied") && !log.contains(" - PoC APP"),
            "{name}: {log}"
        );
    }
    // This namespace's own pods still read it, through the access point.
    let cross = world.validated(&run, &fs, ValidateAction::CrossRead).await;
    assert!(cross.output.cross_read.is_some());
}
