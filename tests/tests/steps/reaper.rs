//! The TTL reaper starts exactly one cleanup per expired namespace (as the ledger records its
//! expiry), across sweeps, none for namespaces whose TTL has not passed, none for anything a tag
//! says, and a failed cleanup again (after a backoff, at most five times).

use efs_fargate_core::ownership::{CLUSTER_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE, NAMESPACE_KEY};
use efs_fargate_core::steps::prepare::{PrepareEvent, PrepareOutput};
use efs_fargate_core::steps::reaper::{SweepReport, execution_name, sweep};
use jiff::{Timestamp, ToSpan};
use serde_json::json;
use workflow_tests::{CLUSTER, World, prepare_event};

/// Provisions `namespace` (run `run-<namespace>`) as if its execution had started at `started_at`.
async fn provision_started_at(world: &World, namespace: &str, ttl: Option<&str>, started_at: Timestamp) {
    let mut input = json!({"clusterName": CLUSTER, "namespace": namespace});
    if let Some(ttl) = ttl {
        input["ttl"] = json!(ttl);
    }
    let event = PrepareEvent {
        run_id: format!("run-{namespace}"),
        started_at: Some(started_at.to_string()),
        ..prepare_event(input)
    };
    let PrepareOutput::Ready { run } = world.prepare(event).await.unwrap() else {
        panic!("not ready")
    };
    world.provision(&run).await;
}

/// The reaper's sweep at `now`, starting cleanups of `state_machine`.
async fn sweep_at(world: &World, state_machine: &str, now: Timestamp) -> efs_fargate_core::Result<SweepReport> {
    let clients = &world.clients;
    sweep(&world.ledger(), &clients.eks, &clients.sfn, state_machine, now).await
}

#[tokio::test]
async fn the_reaper_starts_one_cleanup_per_expired_run_across_two_sweeps() {
    let world = World::new().await;
    let now = Timestamp::now();
    provision_started_at(&world, "expired", Some("PT1H"), now - 2.hours()).await;
    provision_started_at(&world, "fresh", Some("PT8H"), now).await;
    provision_started_at(&world, "no-ttl", None, now - 48.hours()).await;
    let cleanup_machine = world.stand_in_cleanup_state_machine().await;

    let first = sweep_at(&world, &cleanup_machine, now).await.unwrap();
    assert_eq!(first.started.len(), 1, "{first:?}");
    assert_eq!(first.started[0].namespace, "expired");
    assert_eq!(first.started[0].generation, 1);
    let second = sweep_at(&world, &cleanup_machine, now + 5.minutes()).await.unwrap();
    assert_eq!(second.started.len() + second.already_started.len(), 1, "{second:?}");

    let (name, input) = world.only_execution(&cleanup_machine).await;
    assert_eq!(name, first.started[0].execution_name);
    assert_eq!(input["clusterName"], CLUSTER);
    assert_eq!(input["namespace"], "expired");
    assert_eq!(input["generation"], 1, "a later run of the namespace supersedes it");
    assert_eq!(
        name,
        execution_name(CLUSTER, "expired", &first.started[0].expires_at, 1)
    );
}

#[tokio::test]
async fn nothing_expired_starts_nothing() {
    let world = World::new().await;
    provision_started_at(&world, "fresh", Some("PT8H"), Timestamp::now()).await;
    let none = "arn:aws:states:us-east-1:123456789012:stateMachine:none";
    let report = sweep_at(&world, none, Timestamp::now()).await.unwrap();
    assert!(report.started.is_empty() && report.already_started.is_empty());
}

/// The attack that tag-based expiry allowed: anyone who may tag one file system, or one `fp-*`
/// profile of any cluster, names a victim's cluster and namespace and a past expiry. The ledger
/// is the only place the reaper reads expiry, so nothing starts and the victim is intact.
#[tokio::test]
async fn a_forged_expiry_tag_starts_nothing() {
    let world = World::new().await;
    provision_started_at(&world, "payments", None, Timestamp::now()).await;
    let before = world.inventory().await;
    fn forged(name: &str) -> [(&str, &str); 5] {
        [
            (MANAGED_BY_KEY, MANAGED_BY_VALUE),
            (CLUSTER_KEY, CLUSTER),
            (NAMESPACE_KEY, "payments"),
            ("efs-fargate-workflow/expires-at", "2000-01-01T00:00:00Z"),
            ("Name", name),
        ]
    }
    let efs_tags = forged("unrelated")
        .iter()
        .map(|(k, v)| aws_sdk_efs::types::Tag::builder().key(*k).value(*v).build().unwrap())
        .collect();
    world
        .clients
        .efs
        .create_file_system()
        .creation_token("someone-elses")
        .set_tags(Some(efs_tags))
        .send()
        .await
        .unwrap();
    world.network().create_cluster(&world.clients.eks, "other").await;
    world
        .clients
        .eks
        .create_fargate_profile()
        .cluster_name("other")
        .fargate_profile_name("fp-x")
        .pod_execution_role_arn(workflow_tests::POD_ROLE)
        .selectors(
            aws_sdk_eks::types::FargateProfileSelector::builder()
                .namespace("x")
                .build(),
        )
        .set_tags(Some(
            forged("fp-x")
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    let cleanup_machine = world.stand_in_cleanup_state_machine().await;
    let report = sweep_at(&world, &cleanup_machine, Timestamp::now() + 1.hours())
        .await
        .unwrap();
    assert!(
        report.started.is_empty() && report.already_started.is_empty(),
        "{report:?}"
    );
    let executions = world
        .clients
        .sfn
        .list_executions()
        .state_machine_arn(&cleanup_machine)
        .send()
        .await
        .unwrap();
    assert!(executions.executions().is_empty(), "no cleanup was started");
    let after = world.inventory().await;
    assert_eq!(after.file_systems.len(), before.file_systems.len() + 1);
    assert!(
        before.file_systems.iter().all(|fs| after.file_systems.contains(fs)),
        "the victim's file system is intact"
    );
    assert_eq!(
        before.fargate_profiles, after.fargate_profiles,
        "the victim's profile is intact"
    );
}

#[tokio::test]
async fn a_failed_cleanup_is_started_again_after_its_backoff_and_given_up_after_five() {
    let world = World::new().await;
    let now = Timestamp::now();
    provision_started_at(&world, "expired", Some("PT1H"), now - 2.hours()).await;
    let cleanup_machine = world.stand_in_cleanup_state_machine().await;
    let sweep_at = |at: Timestamp| sweep_at(&world, &cleanup_machine, at);
    // moto's executions stay RUNNING: stopping one is how a cleanup ends unsuccessfully here.
    let stop = |name: String| {
        let arn = efs_fargate_core::steps::rollback::execution_arn(cleanup_machine.as_str(), &name);
        let sfn = world.clients.sfn.clone();
        async move { sfn.stop_execution().execution_arn(arn).send().await.unwrap() }
    };

    let first = sweep_at(now).await.unwrap();
    assert_eq!(first.started[0].attempt, 1, "{first:?}");
    stop(first.started[0].execution_name.clone()).await;
    let soon = sweep_at(Timestamp::now() + 1.minutes()).await.unwrap();
    assert!(soon.started.is_empty(), "{soon:?}");
    assert_eq!(
        soon.waiting_to_retry.len(),
        1,
        "backoff before the second attempt: {soon:?}"
    );

    let mut at = Timestamp::now();
    for attempt in 2..=5 {
        at += 5.hours();
        let report = sweep_at(at).await.unwrap();
        assert_eq!(report.started.len(), 1, "attempt {attempt}: {report:?}");
        assert_eq!(report.started[0].attempt, attempt);
        assert!(report.started[0].execution_name.ends_with(&format!("-a{attempt}")));
        stop(report.started[0].execution_name.clone()).await;
    }
    let exhausted = sweep_at(at + 5.hours()).await.unwrap();
    assert!(exhausted.started.is_empty(), "{exhausted:?}");
    assert_eq!(exhausted.gave_up.len(), 1, "{exhausted:?}");
}
