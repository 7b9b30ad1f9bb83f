//! `prepare`: the network it finds, the clusters and security groups it refuses before anything is
//! created, and its output's JSON form.

use efs_fargate_core::ownership::OPT_IN_TAG_KEY;
use efs_fargate_core::ownership::Owner;
use efs_fargate_core::run::AccessStatus;
use efs_fargate_core::settings::{OptInScope, Settings};
use efs_fargate_core::steps::prepare::{PrepareEvent, PrepareOutput, prepare};
use serde_json::json;
use workflow_tests::network::CLUSTER_ROLE_ARN;
use workflow_tests::{CLUSTER, NAMESPACE, OrPanic, World, error_name, inventory, prepare_event};

use super::private_subnet_ids;

#[tokio::test]
async fn prepare_finds_the_private_subnets_one_per_zone_and_the_vpc() {
    let world = World::new().await;
    let seeded = world.network();
    let run = world.prepared(json!({"clusterName": CLUSTER, "ttl": "PT8H"})).await;

    assert_eq!(run.network.vpc_id, seeded.vpc_id);
    let private = private_subnet_ids(&run);
    let mut expected = seeded.private_subnet_ids();
    expected.sort();
    assert_eq!(
        private, expected,
        "the 4 private subnets, including the one on the main route table"
    );
    assert!(private.contains(&seeded.main_table_subnet().id));
    let zones: Vec<_> = run
        .network
        .mount_target_subnets
        .iter()
        .map(|s| s.availability_zone.as_str())
        .collect();
    assert_eq!(zones, ["us-east-1a", "us-east-1b", "us-east-1c"]);
    let zone_a: Vec<_> = seeded
        .private_subnets
        .iter()
        .filter(|s| s.az == "us-east-1a")
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(
        run.network.mount_target_subnets[0].subnet_id,
        zone_a.iter().min().unwrap().clone()
    );
    assert_eq!(run.access.status, AccessStatus::Skipped);
    assert!(run.expires_at.is_some());

    let again = world.prepared(json!({"clusterName": CLUSTER, "ttl": "PT8H"})).await;
    assert_eq!(again.network, run.network);
}

/// A second cluster in the seeded VPC, on `subnets`, with the opt-in tag set to `opt_in` (if any).
async fn another_cluster(world: &World, name: &str, subnets: Vec<String>, opt_in: Option<&str>) {
    let mut create = world
        .clients
        .eks
        .create_cluster()
        .name(name)
        .role_arn(CLUSTER_ROLE_ARN)
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .set_subnet_ids(Some(subnets))
                .build(),
        );
    if let Some(value) = opt_in {
        create = create.tags(OPT_IN_TAG_KEY, value);
    }
    create.send().await.or_panic("eks create_cluster");
}

#[tokio::test]
async fn a_cluster_without_the_opt_in_tag_is_refused_for_every_trigger_unless_relaxed() {
    let world = World::new().await;
    another_cluster(&world, "not-opted-in", world.network().subnet_ids(), None).await;
    let before = inventory(&world.clients, "not-opted-in").await;
    let (name, err) = error_name(world.try_prepare(json!({"clusterName": "not-opted-in"})).await);
    assert_eq!(name, "ClusterNotOptedIn");
    assert!(err.to_string().contains(OPT_IN_TAG_KEY), "{err}");
    assert_eq!(
        inventory(&world.clients, "not-opted-in").await,
        before,
        "nothing created"
    );

    let relaxed = Settings {
        opt_in_scope: OptInScope::EventBridgeOnly,
        ..world.settings.clone()
    };
    let event = PrepareEvent {
        run_id: "run-2".into(),
        ..prepare_event(json!({"clusterName": "not-opted-in"}))
    };
    let output = prepare(&world.clients, &relaxed, event).await.unwrap().output;
    assert!(matches!(output, PrepareOutput::Ready { .. }), "{output:?}");
}

#[tokio::test]
async fn a_cluster_on_public_subnets_only_has_no_private_subnets() {
    let world = World::new().await;
    another_cluster(&world, "public-only", world.network().public_subnet_ids(), Some("true")).await;
    let before = inventory(&world.clients, "public-only").await;
    let (name, err) = error_name(world.try_prepare(json!({"clusterName": "public-only"})).await);
    assert_eq!(name, "NoPrivateSubnets", "{err}");
    assert_eq!(inventory(&world.clients, "public-only").await, before);
}

#[tokio::test]
async fn a_security_group_under_our_name_without_our_tags_is_refused_before_anything_is_created() {
    let world = World::new().await;
    let owner = Owner::new(CLUSTER, NAMESPACE);
    world
        .clients
        .ec2
        .create_security_group()
        .group_name(owner.security_group_name())
        .description("someone else's")
        .vpc_id(&world.network().vpc_id)
        .send()
        .await
        .unwrap();
    let before = world.inventory().await;
    let (name, err) = error_name(world.try_prepare(json!({"clusterName": CLUSTER})).await);
    assert_eq!(name, "SecurityGroupConflict");
    assert!(err.to_string().contains(&owner.security_group_name()), "{err}");
    assert_eq!(world.inventory().await, before, "nothing created, nothing changed");
}

#[tokio::test]
async fn prepare_output_round_trips_through_json() {
    let world = World::new().await;
    let output = world.try_prepare(json!({"clusterName": CLUSTER})).await.unwrap();
    let value = serde_json::to_value(&output).unwrap();
    assert_eq!(value["status"], "ready");
    assert_eq!(value["run"]["clusterName"], CLUSTER);
    assert_eq!(
        value["run"]["network"]["mountTargetSubnets"].as_array().unwrap().len(),
        3
    );
    let back: PrepareOutput = serde_json::from_value(value).unwrap();
    assert_eq!(back, output);
}
