//! Latency injection makes the workflow's status loops really loop: the real steps, through the
//! gateway, see resources creating and deleting for the configured window, then done.

use std::time::Duration;

use aws_sdk_efs::types::LifeCycleState;
use aws_sdk_eks::types::{FargateProfileSelector, FargateProfileStatus};
use efs_fargate_core::aws;
use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::run::Run;
use efs_fargate_core::steps::cleanup::{CleanupAction, CleanupProgress, cleanup};
use efs_fargate_core::steps::prepare::{PrepareEvent, PrepareOutput, prepare};
use efs_fargate_core::steps::{efs, fargate};
use local_stack::{LatencyConfig, RunningGateway};
use serde_json::json;
use tokio::time::{Instant, sleep_until};
use workflow_tests::{CLUSTER, World, cleanup_event, prepare_event, settings};

use crate::support::start_gateway;

const WINDOW: Duration = Duration::from_secs(2);
/// Past the end of a window, with room for the gateway's clock and the test's to differ slightly.
const MARGIN: Duration = Duration::from_millis(100);

/// The seeded world behind a gateway that makes every create and delete take [`WINDOW`], the
/// gateway, the handlers' clients (through it) and the run `prepare` makes of the default input.
async fn slow_world() -> (World, RunningGateway, AwsClients, Run) {
    let world = World::new().await;
    let latency = LatencyConfig {
        create: WINDOW,
        delete: WINDOW,
        ..LatencyConfig::default()
    };
    let (gateway, clients) = start_gateway(&world.moto.sdk_config(), &world.moto.endpoint(), |c| {
        c.with_latency(latency)
    });
    let event = PrepareEvent {
        run_id: "r1".into(),
        ..prepare_event(json!({ "clusterName": CLUSTER }))
    };
    let run = match prepare(&clients, &settings(), event).await.expect("prepare").output {
        PrepareOutput::Ready { run } => *run,
        other => panic!("prepare did not finish: {other:?}"),
    };
    (world, gateway, clients, run)
}

async fn clean(clients: &AwsClients, run: &Run, action: CleanupAction) -> CleanupProgress {
    let event = cleanup_event(action, &run.request.cluster_name, &run.request.namespace);
    cleanup(clients, &settings(), event).await.expect("cleanup step")
}

/// Waits (a few windows at most) until the gateway describes the file system as available.
async fn until_available(clients: &AwsClients, file_system_id: &str) {
    let deadline = Instant::now() + 5 * WINDOW;
    loop {
        let described = aws::efs::file_system(&clients.efs, file_system_id)
            .await
            .expect("describe the file system")
            .expect("the file system exists");
        if *described.life_cycle_state() == LifeCycleState::Available {
            return;
        }
        assert!(Instant::now() < deadline, "the file system never became available");
        tokio::time::sleep(MARGIN).await;
    }
}

async fn profile_status(clients: &AwsClients, run: &Run, name: &str) -> Option<FargateProfileStatus> {
    aws::eks::fargate_profile(&clients.eks, &run.request.cluster_name, name)
        .await
        .expect("describe the Fargate profile")
        .and_then(|profile| profile.status().cloned())
}

async fn mount_target_states(clients: &AwsClients, file_system_id: &str) -> Vec<LifeCycleState> {
    aws::efs::mount_targets(&clients.efs, file_system_id)
        .await
        .expect("describe the mount targets")
        .iter()
        .map(|mt| mt.life_cycle_state().clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_loops_wait_while_resources_are_creating_and_deleting() {
    let (_world, _gateway, clients, run) = slow_world().await;
    let settings = settings();
    let zones = run.network.mount_target_subnets.len();

    // Created: the Fargate profile is CREATING and the file system creating, so no mount target yet.
    let created = Instant::now();
    let profile = match fargate::converge(&clients, &settings, &run, None)
        .await
        .expect("create the profile")
    {
        fargate::Converged::Created(profile) => profile,
        other => panic!("not created: {other:?}"),
    };
    assert_eq!(profile.status, "CREATING");
    let poll = efs::converge(&clients, &settings, &run, 0)
        .await
        .expect("create the storage");
    assert!(!poll.ready && poll.output.mount_targets.is_empty(), "{poll:?}");
    assert_eq!(poll.next_poll_seconds, 1, "{poll:?}");
    let storage = poll.output;
    let poll = fargate::profile(&clients, &settings, &run, None, 0).await.unwrap();
    assert!(!poll.ready, "{poll:?}");
    let poll = efs::converge(&clients, &settings, &run, 0).await.unwrap();
    assert!(!poll.ready && poll.next_poll_seconds == 1, "{poll:?}");
    assert!(created.elapsed() < WINDOW, "too slow to observe the window");

    // After the window: the profile is ACTIVE, and the mount targets get created, creating in turn.
    // The window counts from each resource's own creation, so the test waits for the file system
    // rather than for a time it cannot know.
    sleep_until(created + WINDOW + MARGIN).await;
    until_available(&clients, &storage.file_system_id).await;
    let poll = fargate::profile(&clients, &settings, &run, None, 1).await.unwrap();
    assert!(poll.ready, "{poll:?}");
    let mount_targets_created = Instant::now();
    let poll = efs::converge(&clients, &settings, &run, 1).await.unwrap();
    assert!(!poll.ready, "{poll:?}");
    let states = mount_target_states(&clients, &storage.file_system_id).await;
    assert_eq!(states, vec![LifeCycleState::Creating; zones]);
    sleep_until(mount_targets_created + WINDOW + MARGIN).await;
    let poll = efs::converge(&clients, &settings, &run, 2).await.unwrap();
    assert!(poll.ready, "{poll:?}");
    let states = mount_target_states(&clients, &storage.file_system_id).await;
    assert_eq!(states, vec![LifeCycleState::Available; zones]);

    // Deleted: moto forgets both at once, yet they are described as deleting for the window, and a
    // second cleanup pass waits instead of deleting again.
    let deleted = Instant::now();
    let first = clean(&clients, &run, CleanupAction::FargateProfile).await;
    assert!(
        !first.ready && first.output.removed == [profile.profile_name.clone()],
        "{first:?}"
    );
    let first = clean(&clients, &run, CleanupAction::MountTargets).await;
    assert!(!first.ready && first.output.removed.len() == zones, "{first:?}");
    assert_eq!(
        profile_status(&clients, &run, &profile.profile_name).await,
        Some(FargateProfileStatus::Deleting)
    );
    let states = mount_target_states(&clients, &storage.file_system_id).await;
    assert_eq!(states, vec![LifeCycleState::Deleting; zones]);
    let by_id = clients
        .efs
        .describe_mount_targets()
        .mount_target_id(&first.output.removed[0])
        .send()
        .await
        .expect("a deleting mount target is still described by id");
    assert_eq!(by_id.mount_targets()[0].life_cycle_state(), &LifeCycleState::Deleting);
    let again = clean(&clients, &run, CleanupAction::FargateProfile).await;
    assert!(!again.ready && again.output.removed.is_empty(), "{again:?}");
    let again = clean(&clients, &run, CleanupAction::MountTargets).await;
    assert!(!again.ready && again.output.removed.is_empty(), "{again:?}");
    assert!(deleted.elapsed() < WINDOW, "too slow to observe the window");

    sleep_until(deleted + WINDOW + MARGIN).await;
    assert!(clean(&clients, &run, CleanupAction::FargateProfile).await.ready);
    assert!(clean(&clients, &run, CleanupAction::MountTargets).await.ready);
    assert_eq!(profile_status(&clients, &run, &profile.profile_name).await, None);
}

/// A profile of `cluster` as the workflow would create it, straight through the gateway.
async fn create_profile(clients: &AwsClients, run: &Run, name: &str) -> Result<(), String> {
    clients
        .eks
        .create_fargate_profile()
        .cluster_name(&run.request.cluster_name)
        .fargate_profile_name(name)
        .pod_execution_role_arn(&run.request.pod_execution_role_arn)
        .subnets(&run.network.private_subnets[0].subnet_id)
        .selectors(FargateProfileSelector::builder().namespace(name).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| aws_sdk_eks::error::DisplayErrorContext(e).to_string())
}

/// Deletes the profile `name` of [`CLUSTER`], straight through the gateway.
async fn delete_profile(clients: &AwsClients, name: &str) -> Result<(), String> {
    clients
        .eks
        .delete_fargate_profile()
        .cluster_name(CLUSTER)
        .fargate_profile_name(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| aws_sdk_eks::error::DisplayErrorContext(e).to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_profile_of_a_cluster_changes_at_a_time() {
    let (_world, gateway, clients, run) = slow_world().await;

    let created = Instant::now();
    create_profile(&clients, &run, "fp-one")
        .await
        .expect("the first create");
    let refused = create_profile(&clients, &run, "fp-two").await.unwrap_err();
    assert!(
        refused.contains("ResourceInUseException") && refused.contains("fp-one in status CREATING"),
        "{refused}"
    );
    let refused = delete_profile(&clients, "fp-one").await.unwrap_err();
    assert!(refused.contains("ResourceInUseException"), "{refused}");
    assert!(created.elapsed() < WINDOW, "too slow to observe the window");

    sleep_until(created + WINDOW + MARGIN).await;
    create_profile(&clients, &run, "fp-two")
        .await
        .expect("the second create, once the first is ACTIVE");
    let deleted = Instant::now();
    sleep_until(deleted + WINDOW + MARGIN).await;
    delete_profile(&clients, "fp-one")
        .await
        .expect("deleting fp-one once fp-two is ACTIVE");
    let refused = create_profile(&clients, &run, "fp-three").await.unwrap_err();
    assert!(refused.contains("fp-one in status DELETING"), "{refused}");
    assert_eq!(gateway.stats().profile_busy, 3);
}
