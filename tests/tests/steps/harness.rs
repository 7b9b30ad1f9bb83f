//! Proves the harness itself: the `World`'s seeded network, the reset between worlds, the
//! inventory.

use std::collections::BTreeSet;
use std::time::Instant;

use aws_sdk_ec2::types::{Filter, VpcAttributeName};
use workflow_tests::network::{MAIN_TABLE_SUBNET_CIDR, VPC_CIDR};
use workflow_tests::{CLUSTER, OrPanic, World};

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

#[tokio::test]
async fn seeded_network_has_what_it_promises() {
    let began = Instant::now();
    let world = World::new().await;
    eprintln!(
        "moto at {} (started in {:?}), log {}; World::new took {:?}",
        world.moto.endpoint(),
        world.moto.startup_time(),
        world.moto.log_path().display(),
        began.elapsed()
    );
    let (clients, cluster) = (&world.clients, world.network());

    // 3 AZs, 3 public + 4 private subnets, all in the VPC.
    assert_eq!(cluster.public_subnets.len(), 3);
    assert_eq!(cluster.private_subnets.len(), 4);
    let azs: BTreeSet<_> = cluster.private_subnets.iter().map(|s| s.az.as_str()).collect();
    assert_eq!(azs, BTreeSet::from(["us-east-1a", "us-east-1b", "us-east-1c"]));
    let public_azs: BTreeSet<_> = cluster.public_subnets.iter().map(|s| s.az.as_str()).collect();
    assert_eq!(public_azs, azs);
    let subnets = clients
        .ec2
        .describe_subnets()
        .filters(filter("vpc-id", &cluster.vpc_id))
        .send()
        .await
        .or_panic("describe_subnets")
        .subnets
        .unwrap_or_default();
    assert_eq!(subnets.len(), 7);
    for subnet in &subnets {
        let seeded = cluster
            .public_subnets
            .iter()
            .chain(&cluster.private_subnets)
            .find(|s| Some(s.id.as_str()) == subnet.subnet_id())
            .expect("every subnet in the VPC was seeded");
        assert_eq!(subnet.cidr_block(), Some(seeded.cidr.as_str()));
        assert_eq!(subnet.availability_zone(), Some(seeded.az.as_str()));
    }

    // EKS role tags.
    let tagged = |key: &str| {
        let key = key.to_owned();
        let clients = clients.clone();
        let vpc_id = cluster.vpc_id.clone();
        async move {
            let mut ids: Vec<String> = clients
                .ec2
                .describe_subnets()
                .filters(filter("vpc-id", &vpc_id))
                .filters(filter(&format!("tag:{key}"), "1"))
                .send()
                .await
                .or_panic("describe_subnets by tag")
                .subnets
                .unwrap_or_default()
                .into_iter()
                .filter_map(|s| s.subnet_id)
                .collect();
            ids.sort();
            ids
        }
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    assert_eq!(
        tagged("kubernetes.io/role/elb").await,
        sorted(cluster.public_subnet_ids())
    );
    assert_eq!(
        tagged("kubernetes.io/role/internal-elb").await,
        sorted(cluster.private_subnet_ids())
    );

    // VPC: the CIDR and DNS support + hostnames.
    let vpc = clients
        .ec2
        .describe_vpcs()
        .vpc_ids(&cluster.vpc_id)
        .send()
        .await
        .or_panic("describe_vpcs")
        .vpcs
        .unwrap_or_default();
    assert_eq!(vpc[0].cidr_block(), Some(VPC_CIDR));
    for attribute in [VpcAttributeName::EnableDnsSupport, VpcAttributeName::EnableDnsHostnames] {
        let out = clients
            .ec2
            .describe_vpc_attribute()
            .vpc_id(&cluster.vpc_id)
            .attribute(attribute.clone())
            .send()
            .await
            .or_panic("describe_vpc_attribute");
        let value = match attribute {
            VpcAttributeName::EnableDnsSupport => out.enable_dns_support,
            _ => out.enable_dns_hostnames,
        };
        assert_eq!(value.and_then(|v| v.value), Some(true), "{attribute:?}");
    }

    // Routing: the explicitly associated table of each subnet, or none for the main-table subnet.
    for subnet in cluster.public_subnets.iter().chain(&cluster.private_subnets) {
        let tables = clients
            .ec2
            .describe_route_tables()
            .filters(filter("association.subnet-id", &subnet.id))
            .send()
            .await
            .or_panic("describe_route_tables by subnet")
            .route_tables
            .unwrap_or_default();
        if subnet.cidr == MAIN_TABLE_SUBNET_CIDR {
            assert!(tables.is_empty(), "{subnet:?} has an explicit association");
            continue;
        }
        assert_eq!(tables.len(), 1, "{subnet:?}");
        let default_route = tables[0]
            .routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
            .unwrap_or_else(|| panic!("{subnet:?} has no default route"));
        if cluster.public_subnets.contains(subnet) {
            assert_eq!(tables[0].route_table_id(), Some(cluster.public_route_table_id.as_str()));
            assert_eq!(default_route.gateway_id(), Some(cluster.internet_gateway_id.as_str()));
        } else {
            assert_eq!(
                tables[0].route_table_id(),
                Some(cluster.private_route_table_id.as_str())
            );
            assert_eq!(default_route.nat_gateway_id(), Some(cluster.nat_gateway_id.as_str()));
        }
    }
    assert_eq!(cluster.main_table_subnet().cidr, MAIN_TABLE_SUBNET_CIDR);
    assert_eq!(cluster.main_table_subnet().az, "us-east-1c");
    let main = clients
        .ec2
        .describe_route_tables()
        .filters(filter("vpc-id", &cluster.vpc_id))
        .filters(filter("association.main", "true"))
        .send()
        .await
        .or_panic("describe_route_tables main")
        .route_tables
        .unwrap_or_default();
    assert_eq!(main.len(), 1);
    assert_eq!(main[0].route_table_id(), Some(cluster.main_route_table_id.as_str()));
    assert!(
        main[0]
            .routes()
            .iter()
            .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0")
                && r.nat_gateway_id() == Some(cluster.nat_gateway_id.as_str())),
        "main route table routes 0.0.0.0/0 to the NAT gateway: {:?}",
        main[0].routes()
    );

    // NAT gateway in the first public subnet; internet gateway attached to the VPC.
    let nat = clients
        .ec2
        .describe_nat_gateways()
        .nat_gateway_ids(&cluster.nat_gateway_id)
        .send()
        .await
        .or_panic("describe_nat_gateways")
        .nat_gateways
        .unwrap_or_default();
    assert_eq!(nat[0].subnet_id(), Some(cluster.public_subnets[0].id.as_str()));
    let igw = clients
        .ec2
        .describe_internet_gateways()
        .internet_gateway_ids(&cluster.internet_gateway_id)
        .send()
        .await
        .or_panic("describe_internet_gateways")
        .internet_gateways
        .unwrap_or_default();
    assert_eq!(igw[0].attachments()[0].vpc_id(), Some(cluster.vpc_id.as_str()));

    // The EKS cluster lists all 7 subnets.
    let eks = clients
        .eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .or_panic("describe_cluster")
        .cluster
        .expect("cluster");
    assert_eq!(eks.version(), Some("1.31"));
    assert_eq!(
        eks.resources_vpc_config().map(|c| c.subnet_ids().to_vec()),
        Some(cluster.subnet_ids())
    );
}

#[tokio::test]
async fn reset_wipes_state_between_acquisitions() {
    {
        let world = World::new().await;
        world.foreign_resources().await;
        world.moto.api(
            "POST",
            "/moto-api/config",
            r#"{"stepfunctions":{"execute_state_machine":true}}"#,
        );
        assert_eq!(world.inventory().await.file_systems.len(), 1);
    }
    let world = World::empty().await;
    let clients = &world.clients;
    let vpcs = clients
        .ec2
        .describe_vpcs()
        .filters(filter("cidr", VPC_CIDR))
        .send()
        .await
        .or_panic("describe_vpcs")
        .vpcs
        .unwrap_or_default();
    assert!(vpcs.is_empty(), "{vpcs:?}");
    let clusters = clients
        .eks
        .list_clusters()
        .send()
        .await
        .or_panic("list_clusters")
        .clusters
        .unwrap_or_default();
    assert!(clusters.is_empty(), "{clusters:?}");
    assert_eq!(world.inventory().await, Default::default());
}

#[tokio::test]
async fn inventory_of_a_fresh_network_is_empty_and_sees_foreign_resources() {
    let world = World::new().await;
    let cluster = world.network();
    let fresh = world.inventory().await;
    assert_eq!(fresh, Default::default(), "nothing but the network exists");
    assert_eq!(world.inventory().await, fresh, "stable");

    let began = Instant::now();
    let foreign = world.foreign_resources().await;
    eprintln!("seed_foreign_resources took {:?}", began.elapsed());
    let seen = world.inventory().await;
    assert_ne!(seen, fresh);

    assert_eq!(seen.file_systems.len(), 1);
    let fs = &seen.file_systems[0];
    assert_eq!(fs.id, foreign.file_system_id);
    assert_eq!(fs.creation_token, "foreign-fs");
    assert!(fs.mount_targets.is_empty());

    assert_eq!(seen.security_groups.len(), 1);
    let sg = &seen.security_groups[0];
    assert_eq!(sg.id, foreign.security_group_id);
    assert_eq!(sg.name, "foreign-sg");
    assert_eq!(sg.vpc_id, cluster.vpc_id);
    assert_eq!(sg.nfs_ingress_cidrs, ["10.0.0.0/16"]);

    assert_eq!(seen.kms_keys.len(), 1);
    assert_eq!(seen.kms_keys[0].id, foreign.kms_key_id);
    assert_eq!(seen.kms_aliases.len(), 1);
    assert_eq!(seen.kms_aliases[0].name, "alias/foreign");
    assert_eq!(
        seen.kms_aliases[0].target_key_id.as_deref(),
        Some(foreign.kms_key_id.as_str())
    );
    assert!(seen.fargate_profiles.is_empty());

    let managed =
        |key: &String| key.starts_with("efs-fargate-workflow") || key.starts_with("app.kubernetes.io/managed-by");
    let tag_keys = fs.tags.keys().chain(sg.tags.keys()).chain(seen.kms_keys[0].tags.keys());
    for key in tag_keys {
        assert!(!managed(key), "foreign resource tagged {key}");
    }
}

#[tokio::test]
async fn inventory_sees_mount_targets_profiles_and_skips_deleted_keys() {
    let world = World::new().await;
    let (clients, cluster) = (&world.clients, world.network());
    let foreign = world.foreign_resources().await;
    let mount_subnet = &cluster.private_subnets[1];
    clients
        .efs
        .create_mount_target()
        .file_system_id(&foreign.file_system_id)
        .subnet_id(&mount_subnet.id)
        .security_groups(&foreign.security_group_id)
        .send()
        .await
        .or_panic("create_mount_target");
    clients
        .eks
        .create_fargate_profile()
        .cluster_name(CLUSTER)
        .fargate_profile_name("p1")
        .pod_execution_role_arn("arn:aws:iam::123456789012:role/pods")
        .subnets(&cluster.private_subnets[0].id)
        .selectors(
            aws_sdk_eks::types::FargateProfileSelector::builder()
                .namespace("apps")
                .labels("app", "web")
                .build(),
        )
        .tags("team", "x")
        .send()
        .await
        .or_panic("create_fargate_profile");
    clients
        .kms
        .schedule_key_deletion()
        .key_id(&foreign.kms_key_id)
        .pending_window_in_days(7)
        .send()
        .await
        .or_panic("schedule_key_deletion");

    let seen = world.inventory().await;
    let targets: Vec<_> = seen.mount_targets().collect();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].subnet_id, mount_subnet.id);
    assert_eq!(targets[0].az, "us-east-1b");
    assert!(seen.kms_keys.is_empty(), "pending deletion: {:?}", seen.kms_keys);
    let profile = seen.fargate_profile("p1").expect("profile p1");
    assert_eq!(profile.status, "ACTIVE");
    assert_eq!(profile.tags.get("team").map(String::as_str), Some("x"));
    assert_eq!(profile.subnets, [cluster.private_subnets[0].id.clone()]);
    assert_eq!(profile.selectors[0].0, "apps");

    // A missing cluster yields no profiles (moto would answer list_fargate_profiles with a 500).
    clients
        .eks
        .delete_cluster()
        .name(CLUSTER)
        .send()
        .await
        .or_panic("delete_cluster");
    assert!(world.inventory().await.fargate_profiles.is_empty());
}
