//! Each AWS-side step against moto: what exists afterwards, and that running it again creates
//! nothing new and returns the same ids.

mod common;

use common::*;
use efs_fargate_core::input::Adoptable;
use efs_fargate_core::ownership::{CLUSTER_KEY, EXPIRES_AT_KEY, MANAGED_BY_KEY, NAMESPACE_KEY, Owner};
use efs_fargate_core::run::AccessStatus;
use efs_fargate_core::settings::{OPT_IN_TAG_KEY, OptInScope, Settings};
use efs_fargate_core::steps::efs;
use efs_fargate_core::steps::fargate;
use efs_fargate_core::steps::prepare::{PrepareEvent, PrepareOutput, prepare};
use serde_json::json;
use workflow_tests::{OrPanic, inventory, moto, seed_foreign_resources, seed_network};

#[tokio::test]
async fn prepare_finds_the_private_subnets_one_per_zone_and_the_vpc() {
    let moto = moto().await;
    let clients = moto.clients();
    let seeded = seed_network(&clients, CLUSTER).await;
    let run = prepared(&clients, json!({"clusterName": CLUSTER, "ttl": "PT8H"})).await;

    assert_eq!(run.network.vpc_id, seeded.vpc_id);
    let mut private: Vec<_> = run
        .network
        .private_subnets
        .iter()
        .map(|s| s.subnet_id.clone())
        .collect();
    let mut expected = seeded.private_subnet_ids();
    private.sort();
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

    let again = prepared(&clients, json!({"clusterName": CLUSTER, "ttl": "PT8H"})).await;
    assert_eq!(again.network, run.network);
}

/// A second cluster in the seeded VPC, on `subnets`, with the opt-in tag set to `opt_in` (if any).
async fn another_cluster(
    clients: &efs_fargate_core::clients::AwsClients,
    name: &str,
    subnets: Vec<String>,
    opt_in: Option<&str>,
) {
    let mut create = clients
        .eks
        .create_cluster()
        .name(name)
        .role_arn("arn:aws:iam::123456789012:role/eks-cluster")
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
    let moto = moto().await;
    let clients = moto.clients();
    let seeded = seed_network(&clients, CLUSTER).await;
    another_cluster(&clients, "not-opted-in", seeded.subnet_ids(), None).await;
    let before = inventory(&clients, "not-opted-in").await;
    let (name, err) = error_name(try_prepare(&clients, "run-1", json!({"clusterName": "not-opted-in"})).await);
    assert_eq!(name, "ClusterNotOptedIn");
    assert!(err.to_string().contains(OPT_IN_TAG_KEY), "{err}");
    assert_eq!(inventory(&clients, "not-opted-in").await, before, "nothing created");

    let relaxed = Settings {
        opt_in_scope: OptInScope::EventBridgeOnly,
        ..settings()
    };
    let event = PrepareEvent {
        execution_arn: None,
        run_id: "run-2".into(),
        started_at: None,
        input: json!({"clusterName": "not-opted-in"}),
        attempt: 0,
    };
    let output = prepare(&clients, &relaxed, event).await.unwrap();
    assert!(matches!(output, PrepareOutput::Ready { .. }), "{output:?}");
}

#[tokio::test]
async fn a_cluster_on_public_subnets_only_has_no_private_subnets() {
    let moto = moto().await;
    let clients = moto.clients();
    let seeded = seed_network(&clients, CLUSTER).await;
    another_cluster(&clients, "public-only", seeded.public_subnet_ids(), Some("true")).await;
    let before = inventory(&clients, "public-only").await;
    let (name, err) = error_name(try_prepare(&clients, "run-1", json!({"clusterName": "public-only"})).await);
    assert_eq!(name, "NoPrivateSubnets", "{err}");
    assert_eq!(inventory(&clients, "public-only").await, before);
}

#[tokio::test]
async fn fargate_profile_is_created_once_on_the_private_subnets() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let run = prepared(&clients, json!({"clusterName": CLUSTER})).await;

    let first = fargate::ensure_profile(&clients.eks, &run).await.unwrap();
    assert!(first.created);
    assert_eq!(first.profile_name, format!("fp-{NAMESPACE}"));
    let second = fargate::ensure_profile(&clients.eks, &run).await.unwrap();
    assert!(!second.created);
    assert_eq!(second.profile_arn, first.profile_arn);

    let profile =
        efs_fargate_core::aws::eks::fargate_profile(&clients.eks, &run.request.cluster_name, &first.profile_name)
            .await
            .unwrap()
            .unwrap();
    let mut subnets = profile.subnets().to_vec();
    subnets.sort();
    let mut private: Vec<_> = run
        .network
        .private_subnets
        .iter()
        .map(|s| s.subnet_id.clone())
        .collect();
    private.sort();
    assert_eq!(subnets, private);
    assert_eq!(profile.pod_execution_role_arn(), Some(POD_ROLE));
    assert_eq!(profile.selectors()[0].namespace(), Some(NAMESPACE));
    let tags = profile.tags().unwrap();
    assert_eq!(
        tags.get(MANAGED_BY_KEY).map(String::as_str),
        Some("efs-fargate-workflow")
    );
    assert_eq!(tags.get(CLUSTER_KEY).map(String::as_str), Some(CLUSTER));
    assert_eq!(tags.get(NAMESPACE_KEY).map(String::as_str), Some(NAMESPACE));
    assert_eq!(inventory(&clients, CLUSTER).await.fargate_profiles.len(), 1);

    let poll = fargate::profile_status(&clients.eks, &settings(), &run, 4)
        .await
        .unwrap();
    assert!(poll.ready);
    assert_eq!(poll.attempt, 5);
}

#[tokio::test]
async fn a_security_group_under_our_name_without_our_tags_is_refused_before_anything_is_created() {
    let moto = moto().await;
    let clients = moto.clients();
    let seeded = seed_network(&clients, CLUSTER).await;
    let owner = Owner::new(CLUSTER, NAMESPACE);
    clients
        .ec2
        .create_security_group()
        .group_name(owner.security_group_name())
        .description("someone else's")
        .vpc_id(&seeded.vpc_id)
        .send()
        .await
        .unwrap();
    let before = inventory(&clients, CLUSTER).await;
    let (name, err) = error_name(try_prepare(&clients, "run-1", json!({"clusterName": CLUSTER})).await);
    assert_eq!(name, "SecurityGroupConflict");
    assert!(err.to_string().contains(&owner.security_group_name()), "{err}");
    assert_eq!(
        inventory(&clients, CLUSTER).await,
        before,
        "nothing created, nothing changed"
    );
}

#[tokio::test]
async fn an_existing_profile_with_another_spec_is_a_conflict_not_reused() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let run = prepared(&clients, json!({"clusterName": CLUSTER})).await;
    let subnets = run
        .network
        .private_subnets
        .iter()
        .map(|s| s.subnet_id.clone())
        .collect();
    foreign_profile(&clients, "arn:aws:iam::123456789012:role/someone-else", subnets).await;
    let (name, err) = error_name(fargate::ensure_profile(&clients.eks, &run).await);
    assert_eq!(name, "FargateProfileConflict");
    assert!(err.to_string().contains("`adopt`"), "{err}");
    // Adopting it does not make a profile with another spec usable.
    let mut adopting = run.clone();
    adopting.request.adopt = vec![Adoptable::FargateProfile];
    let (name, err) = error_name(fargate::ensure_profile(&clients.eks, &adopting).await);
    assert_eq!(name, "FargateProfileConflict");
    assert!(err.to_string().contains("someone-else"), "{err}");
}

#[tokio::test]
async fn efs_with_the_aws_managed_key_is_encrypted_reachable_from_private_subnets_only_and_idempotent() {
    let moto = moto().await;
    let clients = moto.clients();
    let seeded = seed_network(&clients, CLUSTER).await;
    let run = prepared(&clients, json!({"clusterName": CLUSTER, "ttl": "PT8H"})).await;

    let first = efs::ensure_storage(&clients, &run).await.unwrap();
    assert!(first.ready && first.encrypted);
    assert_eq!(first.kms_key, None, "no alias: the AWS-managed key");
    assert_eq!(first.creation_token, Owner::new(CLUSTER, NAMESPACE).creation_token());
    let after_first = inventory(&clients, CLUSTER).await;

    let fs = after_first
        .file_system(&first.file_system_id)
        .expect("file system exists");
    assert_eq!(fs.tags.get(EXPIRES_AT_KEY), run.expires_at.as_ref());
    let mut zones: Vec<_> = fs.mount_targets.iter().map(|mt| mt.az.clone()).collect();
    zones.sort();
    assert_eq!(zones, ["us-east-1a", "us-east-1b", "us-east-1c"]);
    for mt in &fs.mount_targets {
        assert!(
            run.network
                .mount_target_subnets
                .iter()
                .any(|s| s.subnet_id == mt.subnet_id)
        );
    }
    let group = after_first
        .security_group(&first.security_group_id)
        .expect("security group exists");
    assert_eq!(group.vpc_id, seeded.vpc_id);
    let mut cidrs = group.nfs_ingress_cidrs.clone();
    cidrs.sort();
    let mut private_cidrs: Vec<_> = seeded.private_subnets.iter().map(|s| s.cidr.clone()).collect();
    private_cidrs.sort();
    assert_eq!(cidrs, private_cidrs, "TCP 2049 from the private subnets only");
    assert!(group.nfs_ingress_groups.is_empty());

    let second = efs::ensure_storage(&clients, &run).await.unwrap();
    assert_eq!(second, first, "same ids the second time");
    assert_eq!(
        inventory(&clients, CLUSTER).await,
        after_first,
        "nothing new the second time"
    );
}

#[tokio::test]
async fn a_missing_kms_alias_gets_a_new_rotated_key_and_an_existing_one_is_reused() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let run = prepared(
        &clients,
        json!({"clusterName": CLUSTER, "encryption": {"kmsKeyAlias": "alias/efs-poc"}}),
    )
    .await;

    let first = efs::ensure_storage(&clients, &run).await.unwrap();
    let key = first.kms_key.clone().expect("a customer key");
    assert!(key.created_by_workflow);
    let described = clients
        .kms
        .describe_key()
        .key_id("alias/efs-poc")
        .send()
        .await
        .or_panic("kms describe_key");
    let key_id = described.key_metadata().unwrap().key_id().to_string();
    assert!(key.key_arn.ends_with(&key_id));
    let rotation = clients
        .kms
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .or_panic("kms rotation");
    assert!(rotation.key_rotation_enabled());
    let fs = clients
        .efs
        .describe_file_systems()
        .file_system_id(&first.file_system_id)
        .send()
        .await
        .or_panic("efs describe");
    assert_eq!(fs.file_systems()[0].kms_key_id(), Some(key.key_arn.as_str()));

    let second = efs::ensure_storage(&clients, &run).await.unwrap();
    assert_eq!(second.kms_key, Some(key), "the same key, still known as ours");

    // Another namespace naming a key someone else made reuses it and does not claim it.
    let foreign = seed_foreign_resources(&clients, &run.network.vpc_id).await;
    let other = prepared(
        &clients,
        json!({"clusterName": CLUSTER, "namespace": "team-b", "encryption": {"kmsKeyAlias": "alias/foreign"}}),
    )
    .await;
    let reused = efs::ensure_storage(&clients, &other).await.unwrap().kms_key.unwrap();
    assert!(!reused.created_by_workflow);
    assert!(reused.key_arn.ends_with(&foreign.kms_key_id));
}

#[tokio::test]
async fn encryption_at_rest_can_be_disabled_but_not_changed_afterwards() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let plain = prepared(
        &clients,
        json!({"clusterName": CLUSTER, "encryption": {"atRest": false}}),
    )
    .await;
    let created = efs::ensure_storage(&clients, &plain).await.unwrap();
    assert!(!created.encrypted);

    let encrypted = prepared(&clients, json!({"clusterName": CLUSTER})).await;
    let before = inventory(&clients, CLUSTER).await;
    let (name, err) = error_name(efs::ensure_storage(&clients, &encrypted).await);
    assert_eq!(name, "FileSystemConflict", "{err}");
    assert_eq!(inventory(&clients, CLUSTER).await, before);
}

#[tokio::test]
async fn a_removed_nfs_rule_is_restored_on_the_next_run() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let run = prepared(&clients, json!({"clusterName": CLUSTER})).await;
    let created = efs::ensure_storage(&clients, &run).await.unwrap();
    let cidr = run.network.private_subnets[0].cidr_block.clone();
    clients
        .ec2
        .revoke_security_group_ingress()
        .group_id(&created.security_group_id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(2049)
                .to_port(2049)
                .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip(&cidr).build())
                .build(),
        )
        .send()
        .await
        .or_panic("ec2 revoke");
    let before = inventory(&clients, CLUSTER).await;
    assert!(
        !before
            .security_group(&created.security_group_id)
            .unwrap()
            .nfs_ingress_cidrs
            .contains(&cidr)
    );
    efs::ensure_storage(&clients, &run).await.unwrap();
    let after = inventory(&clients, CLUSTER).await;
    assert!(
        after
            .security_group(&created.security_group_id)
            .unwrap()
            .nfs_ingress_cidrs
            .contains(&cidr)
    );
    assert_eq!(after.security_groups.len(), before.security_groups.len());
}

#[tokio::test]
async fn two_namespaces_on_one_cluster_get_separate_storage() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let a = prepared(&clients, json!({"clusterName": CLUSTER, "namespace": "team-a"})).await;
    let b = prepared(&clients, json!({"clusterName": CLUSTER, "namespace": "team-b"})).await;
    let (profile_a, storage_a) = provision(&clients, &a).await;
    let (profile_b, storage_b) = provision(&clients, &b).await;
    assert_ne!(profile_a.profile_name, profile_b.profile_name);
    assert_ne!(storage_a.file_system_id, storage_b.file_system_id);
    assert_ne!(storage_a.security_group_id, storage_b.security_group_id);
    let inventory = inventory(&clients, CLUSTER).await;
    assert_eq!(inventory.fargate_profiles.len(), 2);
    assert_eq!(inventory.file_systems.len(), 2);
}

#[tokio::test]
async fn prepare_output_round_trips_through_json() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let output = try_prepare(&clients, "run-1", json!({"clusterName": CLUSTER}))
        .await
        .unwrap();
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
