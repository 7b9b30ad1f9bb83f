//! The ownership ledger decides every deletion: resources that carry all of our tags but that the
//! ledger does not record are kept by every cleanup mode, with the reason; a crash between a
//! record's intent and its confirmation is resolved by the next run without a duplicate or a leak;
//! a key a run in flight created survives another namespace's cleanup; and two deployments sharing
//! an account each clean up only their own.

use efs_fargate_core::ledger::{Kind, Ledger, Place};
use efs_fargate_core::resources::NOT_RECORDED;
use efs_fargate_core::resources::Recorder;
use efs_fargate_core::resources::kms_key::{self, Decision};
use efs_fargate_core::run::Run;
use efs_fargate_core::steps::cleanup::CleanupAction;
use efs_fargate_core::steps::prepare::{PrepareEvent, PrepareOutput};
use serde_json::json;
use workflow_tests::{CLUSTER, CleanupScope, NAMESPACE, OrPanic, World, create_ledger_table, prepare_event};

/// Everything a cleanup of `namespace` did, every action called until done (the Kubernetes one
/// first, as the state machine runs them), in the scope a manual cleanup (`None`, `None`), a
/// rollback (`Some(run)`, `Some(generation)`) or a TTL cleanup (`None`, `Some(generation)`) has.
async fn clean_up(
    world: &World,
    namespace: &str,
    run_id: Option<&str>,
    generation: Option<u64>,
) -> (Vec<String>, Vec<String>) {
    let scope = CleanupScope { run_id, generation };
    let (mut removed, mut kept) = (Vec::new(), Vec::new());
    for (_, progress) in world.clean_up_with(namespace, &CleanupAction::ALL, scope, 100).await {
        if progress.ready {
            removed.extend(progress.output.removed);
            kept.extend(progress.output.kept);
        }
    }
    (removed, kept)
}

/// Removes every record of `run`'s namespace (its header stays: the run still holds its
/// generation) and of the account's keys: what is left carries all of our tags and labels, and
/// the ledger knows nothing of it.
async fn forget_everything_but_the_header(ledger: &Ledger, run: &Run) {
    let view = ledger.namespace(CLUSTER, &run.request.namespace).await.unwrap();
    assert!(!view.records.is_empty());
    for record in view.records.iter().chain(&ledger.account().await.unwrap()) {
        ledger.forget(record.place(), record.kind, &record.key).await.unwrap();
    }
}

#[tokio::test]
async fn resources_with_all_our_tags_but_no_record_are_kept_by_every_cleanup_mode() {
    let world = World::with_kube().await;
    let run = world
        .prepared(json!({"clusterName": CLUSTER, "encryption": {"kmsKeyAlias": "alias/team-data"}}))
        .await;
    world.ensure_namespace(&run).await.expect("namespace");
    let (profile, storage) = world.provision(&run).await;
    world.end_run(&run).await;
    let ledger = world.ledger();
    forget_everything_but_the_header(&ledger, &run).await;
    let before = world.inventory().await;
    let key = storage
        .kms_key
        .as_ref()
        .expect("a key behind the alias")
        .key_arn
        .clone();

    let modes = [
        ("manual", None, None),
        ("rollback", Some(run.run_id.as_str()), Some(run.generation)),
        ("ttl", None, Some(run.generation)),
    ];
    for (mode, run_id, generation) in modes {
        let (removed, kept) = clean_up(&world, NAMESPACE, run_id, generation).await;
        assert_eq!(removed, Vec::<String>::new(), "{mode}");
        assert_eq!(world.inventory().await, before, "{mode}: nothing changed");
        assert_eq!(world.key_state(&key).await, "Enabled", "{mode}");
        assert!(world.fake().object("Namespace", None, NAMESPACE).is_some(), "{mode}");
        for what in [
            format!("file system {}", storage.file_system_id),
            format!("KMS key {key}"),
            format!("Fargate profile {}", profile.profile_name),
            format!("security group {}", storage.security_group_id),
            format!("namespace/{NAMESPACE}"),
        ] {
            assert!(
                kept.iter().any(|k| k.contains(&what) && k.contains(NOT_RECORDED)),
                "{mode}: {what} kept as not recorded in {kept:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_crash_between_intent_and_confirm_is_resolved_by_the_next_run_without_a_duplicate() {
    let world = World::with_kube().await;
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;
    world.ensure_namespace(&run).await.expect("namespace");
    let (profile, storage) = world.provision(&run).await;
    let namespace_uid = world.fake().object("Namespace", None, NAMESPACE).unwrap()["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    // The crash: each create call went through, and the run died before it confirmed the record.
    let ledger = world.ledger();
    let place = Place::Namespace {
        cluster: CLUSTER,
        namespace: NAMESPACE,
    };
    let token = run.owner().creation_token();
    let crashed = [
        (Kind::FileSystem, token.as_str()),
        (Kind::Namespace, NAMESPACE),
        (Kind::FargateProfile, profile.profile_name.as_str()),
    ];
    for (kind, key) in crashed {
        ledger.forget(place, kind, key).await.unwrap();
        let intent = ledger.intend(place, kind, key, &run.creator()).await.unwrap();
        assert!(!intent.is_created());
    }
    world.end_run(&run).await;

    // The next run finds each resource its intent stands for and confirms it, creating none.
    let next = world
        .prepare(PrepareEvent {
            run_id: "run-2".into(),
            ..prepare_event(json!({"clusterName": CLUSTER}))
        })
        .await
        .expect("prepare");
    let PrepareOutput::Ready { run: next } = next else {
        panic!("{next:?}")
    };
    world.ensure_namespace(&next).await.expect("namespace");
    let (again, storage_again) = world.provision(&next).await;
    assert_eq!(storage_again.file_system_id, storage.file_system_id);
    assert_eq!(again.profile_arn, profile.profile_arn);
    let inventory = world.inventory().await;
    assert_eq!(inventory.file_systems.len(), 1, "{:?}", inventory.file_systems);
    assert_eq!(inventory.fargate_profiles.len(), 1);
    let view = ledger.namespace(CLUSTER, NAMESPACE).await.unwrap();
    let confirmed = |kind: Kind, key: &str| {
        let record = view
            .find(kind, key)
            .unwrap_or_else(|| panic!("{kind:?} {key} recorded"));
        assert!(record.is_created(), "{record:?}");
        assert_eq!(record.run, run.run_id, "confirmed as the run that made it");
        record.resource_id.clone().unwrap()
    };
    assert_eq!(confirmed(Kind::FileSystem, &token), storage.file_system_id);
    assert_eq!(confirmed(Kind::Namespace, NAMESPACE), namespace_uid);
    assert_eq!(
        confirmed(Kind::FargateProfile, &profile.profile_name),
        profile.profile_arn
    );

    // And nothing leaks: cleanup removes them.
    world.end_run(&next).await;
    let (removed, _) = clean_up(&world, NAMESPACE, None, None).await;
    assert!(removed.contains(&storage.file_system_id), "{removed:?}");
    let after = world.inventory().await;
    assert!(
        after.file_systems.is_empty() && after.fargate_profiles.is_empty(),
        "{after:?}"
    );
    assert!(world.fake().object("Namespace", None, NAMESPACE).is_none());
}

#[tokio::test]
async fn an_intent_whose_create_never_happened_is_forgotten_and_deletes_nothing() {
    let world = World::new().await;
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;
    let ledger = world.ledger();
    let place = Place::Namespace {
        cluster: CLUSTER,
        namespace: NAMESPACE,
    };
    let token = run.owner().creation_token();
    ledger
        .intend(place, Kind::FileSystem, &token, &run.creator())
        .await
        .unwrap();
    // Someone else's file system under the same token, made long after the intent would have been.
    let theirs = world
        .clients
        .efs
        .create_file_system()
        .creation_token("someone-else")
        .send()
        .await
        .or_panic("efs create_file_system")
        .file_system_id()
        .to_string();
    world.end_run(&run).await;
    let (removed, _) = clean_up(&world, NAMESPACE, None, None).await;
    assert_eq!(removed, Vec::<String>::new());
    assert!(world.inventory().await.file_system(&theirs).is_some());
    let view = ledger.namespace(CLUSTER, NAMESPACE).await.unwrap();
    assert!(view.records.is_empty(), "the intent is resolved: {:?}", view.records);
}

#[tokio::test]
async fn a_key_a_run_in_flight_created_survives_another_namespace_s_cleanup() {
    let world = World::new().await;
    // team-a's run is in flight: it has created its key (recorded, with team-a as its user) and
    // not yet its file system.
    let in_flight = world
        .prepared(json!({"clusterName": CLUSTER, "namespace": "team-a", "encryption": {"kmsKeyAlias": "alias/shared"}}))
        .await;
    let ledger = world.ledger();
    let (owner, creator) = (in_flight.owner(), in_flight.creator());
    let recorder = Recorder {
        ledger: &ledger,
        owner: &owner,
        creator: &creator,
    };
    let key = kms_key::apply(
        &world.clients.kms,
        recorder,
        in_flight.tags("alias/shared"),
        Decision::Create,
        "alias/shared",
    )
    .await
    .expect("team-a's key")
    .key_arn;
    // team-b, on its own key and on the same one, provisioned and then cleaned up.
    for (namespace, alias) in [("team-b", "alias/team-b"), ("team-c", "alias/shared")] {
        let run = world
            .prepared(json!({"clusterName": CLUSTER, "namespace": namespace, "encryption": {"kmsKeyAlias": alias}}))
            .await;
        world.provision(&run).await;
        world.end_run(&run).await;
        let (_, kept) = clean_up(&world, namespace, None, None).await;
        assert_eq!(world.key_state(&key).await, "Enabled", "after {namespace}'s cleanup");
        if alias == "alias/shared" {
            assert!(
                kept.iter()
                    .any(|k| k.contains("alias/shared") && k.contains("still used by demo/team-a")),
                "{kept:?}"
            );
        }
    }
    let inventory = world.inventory().await;
    assert!(
        inventory.kms_aliases.iter().all(|a| a.name != "alias/team-b"),
        "team-b's own key went with it: {:?}",
        inventory.kms_aliases
    );
}

#[tokio::test]
async fn two_deployments_sharing_an_account_each_clean_up_only_their_own() {
    let mut world = World::with_kube().await;
    let blue = world.settings.clone();
    create_ledger_table(&world.clients.dynamodb, "green-ledger").await;
    let green = efs_fargate_core::settings::Settings {
        deployment: "green".into(),
        ledger_table_name: Some("green-ledger".into()),
        ..blue.clone()
    };
    let provision = async |world: &World, namespace: &str| {
        let run = world
            .prepared(json!({"clusterName": CLUSTER, "namespace": namespace}))
            .await;
        world.ensure_namespace(&run).await.expect("namespace");
        let (_, storage) = world.provision(&run).await;
        world.end_run(&run).await;
        (run, storage.file_system_id)
    };
    let (blue_run, blue_fs) = provision(&world, "team-a").await;
    world.settings = green.clone();
    let (green_run, green_fs) = provision(&world, "team-b").await;
    assert_eq!(blue_run.deployment, "local");
    assert_eq!(green_run.deployment, "green");

    // Green cleans up blue's namespace: it records nothing there, so it deletes nothing.
    let before = world.inventory().await;
    let (removed, kept) = clean_up(&world, "team-a", None, None).await;
    assert_eq!(removed, Vec::<String>::new());
    assert!(
        kept.iter().any(|k| k.contains(&blue_fs) && k.contains(NOT_RECORDED)),
        "{kept:?}"
    );
    assert_eq!(world.inventory().await, before);
    assert!(world.fake().object("Namespace", None, "team-a").is_some());

    // Each removes its own.
    let (removed, _) = clean_up(&world, "team-b", None, None).await;
    assert!(removed.contains(&green_fs), "{removed:?}");
    assert!(world.inventory().await.file_system(&blue_fs).is_some());
    assert!(world.fake().object("Namespace", None, "team-a").is_some());
    world.settings = blue;
    let (removed, _) = clean_up(&world, "team-a", None, None).await;
    assert!(removed.contains(&blue_fs), "{removed:?}");
    let after = world.inventory().await;
    assert!(
        after.file_systems.is_empty() && after.fargate_profiles.is_empty(),
        "{after:?}"
    );
}
