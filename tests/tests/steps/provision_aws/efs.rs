//! epic02's storage: the encrypted file system, its KMS key, the NFS security group and the mount
//! targets, and that namespaces do not share them.

use efs_fargate_core::ownership::{DEPLOYMENT_KEY, Owner};
use efs_fargate_core::resources::Kind;
use efs_fargate_core::steps::efs;
use serde_json::json;
use workflow_tests::{CLUSTER, NAMESPACE, OrPanic, World, error_name};

#[tokio::test]
async fn efs_with_the_aws_managed_key_is_encrypted_reachable_from_private_subnets_only_and_idempotent() {
    let world = World::new().await;
    let seeded = world.network();
    let run = world.prepared(json!({"clusterName": CLUSTER, "ttl": "PT8H"})).await;

    let poll = efs::converge(&world.clients, &workflow_tests::settings(), &run, 0)
        .await
        .unwrap();
    let poll = if poll.ready {
        poll
    } else {
        efs::converge(&world.clients, &workflow_tests::settings(), &run, poll.attempt)
            .await
            .unwrap()
    };
    assert!(poll.ready, "{poll:?}");
    let first = poll.output;
    assert!(first.encrypted);
    assert_eq!(first.kms_key, None, "no alias: the AWS-managed key");
    assert_eq!(first.creation_token, Owner::new(CLUSTER, NAMESPACE).creation_token());
    let after_first = world.inventory().await;

    let fs = after_first
        .file_system(&first.file_system_id)
        .expect("file system exists");
    // Expiry is the ledger's; the tags name the deployment, for people.
    assert!(!fs.tags.keys().any(|k| k.ends_with("expires-at")), "{:?}", fs.tags);
    assert_eq!(fs.tags.get(DEPLOYMENT_KEY), Some(&run.deployment));
    let recorded = world.ledger().namespace(CLUSTER, NAMESPACE).await.unwrap();
    let record = recorded.find(Kind::FileSystem, &run.owner().creation_token()).unwrap();
    assert_eq!(record.resource_id.as_deref(), Some(first.file_system_id.as_str()));
    assert_eq!(record.run, run.run_id);
    assert_eq!(recorded.of_kind(Kind::MountTarget).count(), 3);
    assert_eq!(recorded.header.unwrap().expires_at, run.expires_at);
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

    let second = efs::converge(&world.clients, &workflow_tests::settings(), &run, 0)
        .await
        .map(|poll| poll.output)
        .unwrap();
    assert_eq!(second, first, "same ids the second time");
    assert_eq!(world.inventory().await, after_first, "nothing new the second time");
}

#[tokio::test]
async fn a_missing_kms_alias_gets_a_new_rotated_key_and_an_existing_one_is_reused() {
    let world = World::new().await;
    let clients = &world.clients;
    let run = world
        .prepared(json!({"clusterName": CLUSTER, "encryption": {"kmsKeyAlias": "alias/efs-poc"}}))
        .await;

    let first = efs::converge(clients, &workflow_tests::settings(), &run, 0)
        .await
        .map(|poll| poll.output)
        .unwrap();
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

    let second = efs::converge(clients, &workflow_tests::settings(), &run, 0)
        .await
        .map(|poll| poll.output)
        .unwrap();
    assert_eq!(second.kms_key, Some(key), "the same key, still known as ours");

    // Another namespace naming a key someone else made reuses it and does not claim it.
    let foreign = world.foreign_resources().await;
    let other = world
        .prepared(
            json!({"clusterName": CLUSTER, "namespace": "team-b", "encryption": {"kmsKeyAlias": "alias/foreign"}}),
        )
        .await;
    let reused = efs::converge(clients, &workflow_tests::settings(), &other, 0)
        .await
        .map(|poll| poll.output)
        .unwrap()
        .kms_key
        .unwrap();
    assert!(!reused.created_by_workflow);
    assert!(reused.key_arn.ends_with(&foreign.kms_key_id));
}

#[tokio::test]
async fn encryption_at_rest_can_be_disabled_but_not_changed_afterwards() {
    let world = World::new().await;
    let plain = world
        .prepared(json!({"clusterName": CLUSTER, "encryption": {"atRest": false}}))
        .await;
    let created = efs::converge(&world.clients, &workflow_tests::settings(), &plain, 0)
        .await
        .map(|poll| poll.output)
        .unwrap();
    assert!(!created.encrypted);

    // Refused before anything is created, and by the step itself when handed such a run.
    let before = world.inventory().await;
    let (name, err) = error_name(world.try_prepare(json!({"clusterName": CLUSTER})).await);
    assert_eq!(name, "FileSystemConflict", "{err}");
    let mut encrypted = plain.clone();
    encrypted.request.encryption.at_rest = true;
    let (name, err) = error_name(
        efs::converge(&world.clients, &world.settings, &encrypted, 0)
            .await
            .map(|poll| poll.output),
    );
    assert_eq!(name, "FileSystemConflict", "{err}");
    assert_eq!(world.inventory().await, before);
}

#[tokio::test]
async fn a_removed_nfs_rule_is_restored_on_the_next_run() {
    let world = World::new().await;
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;
    let created = efs::converge(&world.clients, &workflow_tests::settings(), &run, 0)
        .await
        .map(|poll| poll.output)
        .unwrap();
    let cidr = run.network.private_subnets[0].cidr_block.clone();
    world
        .clients
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
    let allows_nfs = |inventory: &workflow_tests::Inventory| {
        inventory
            .security_group(&created.security_group_id)
            .unwrap()
            .nfs_ingress_cidrs
            .contains(&cidr)
    };
    let before = world.inventory().await;
    assert!(!allows_nfs(&before));
    efs::converge(&world.clients, &workflow_tests::settings(), &run, 0)
        .await
        .map(|poll| poll.output)
        .unwrap();
    let after = world.inventory().await;
    assert!(allows_nfs(&after));
    assert_eq!(after.security_groups.len(), before.security_groups.len());
}

#[tokio::test]
async fn two_namespaces_on_one_cluster_get_separate_storage() {
    let world = World::new().await;
    let a = world.run("team-a").await;
    let b = world.run("team-b").await;
    let (profile_a, storage_a) = world.provision(&a).await;
    let (profile_b, storage_b) = world.provision(&b).await;
    assert_ne!(profile_a.profile_name, profile_b.profile_name);
    assert_ne!(storage_a.file_system_id, storage_b.file_system_id);
    assert_ne!(storage_a.security_group_id, storage_b.security_group_id);
    let inventory = world.inventory().await;
    assert_eq!(inventory.fargate_profiles.len(), 2);
    assert_eq!(inventory.file_systems.len(), 2);
}
