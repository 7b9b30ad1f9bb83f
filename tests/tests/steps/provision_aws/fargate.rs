//! epic01's Fargate profile: created once on the private subnets, and a profile of another spec
//! under our name refused, adopted or not.

use efs_fargate_core::input::Adoptable;
use efs_fargate_core::ownership::{CLUSTER_KEY, MANAGED_BY_KEY, NAMESPACE_KEY};
use efs_fargate_core::steps::fargate;
use serde_json::json;
use workflow_tests::{CLUSTER, NAMESPACE, POD_ROLE, World, error_name};

use super::private_subnet_ids;

#[tokio::test]
async fn fargate_profile_is_created_once_on_the_private_subnets() {
    let world = World::new().await;
    let eks = &world.clients.eks;
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;

    let first = world.ensure_profile(&run).await.unwrap();
    assert!(first.created);
    assert_eq!(first.profile_name, format!("fp-{NAMESPACE}"));
    let second = world.ensure_profile(&run).await.unwrap();
    assert!(!second.created);
    assert_eq!(second.profile_arn, first.profile_arn);

    let profile = efs_fargate_core::aws::eks::fargate_profile(eks, CLUSTER, &first.profile_name)
        .await
        .unwrap()
        .unwrap();
    let mut subnets = profile.subnets().to_vec();
    subnets.sort();
    assert_eq!(subnets, private_subnet_ids(&run));
    assert_eq!(profile.pod_execution_role_arn(), Some(POD_ROLE));
    assert_eq!(profile.selectors()[0].namespace(), Some(NAMESPACE));
    let tags = profile.tags().unwrap();
    assert_eq!(
        tags.get(MANAGED_BY_KEY).map(String::as_str),
        Some("efs-fargate-workflow")
    );
    assert_eq!(tags.get(CLUSTER_KEY).map(String::as_str), Some(CLUSTER));
    assert_eq!(tags.get(NAMESPACE_KEY).map(String::as_str), Some(NAMESPACE));
    assert_eq!(world.inventory().await.fargate_profiles.len(), 1);

    let poll = fargate::profile(&world.clients, &world.settings, &run, None, 4)
        .await
        .unwrap();
    assert!(poll.ready);
    assert_eq!(poll.attempt, 5);
}

#[tokio::test]
async fn an_existing_profile_with_another_spec_is_a_conflict_not_reused() {
    let world = World::new().await;
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;
    world
        .foreign_profile("arn:aws:iam::123456789012:role/someone-else", private_subnet_ids(&run))
        .await;
    let (name, err) = error_name(world.ensure_profile(&run).await);
    assert_eq!(name, "FargateProfileConflict");
    assert!(err.to_string().contains("`adopt`"), "{err}");
    // Adopting it does not make a profile with another spec usable.
    let mut adopting = run.clone();
    adopting.request.adopt = vec![Adoptable::FargateProfile];
    let (name, err) = error_name(world.ensure_profile(&adopting).await);
    assert_eq!(name, "FargateProfileConflict");
    assert!(err.to_string().contains("someone-else"), "{err}");
}
