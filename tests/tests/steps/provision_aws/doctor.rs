//! The doctor against moto: a healthy cluster passes; each thing that would make a run fail
//! half-way (DNS hostnames off, a full mount-target subnet, a pod execution role Fargate cannot
//! assume, a cluster without the opt-in tag) is reported by name, every check run, and `prepare`
//! fails with the first of them having created nothing.

use aws_sdk_ec2::types::AttributeBooleanValue;
use efs_fargate_core::ownership::OPT_IN_TAG_KEY;
use efs_fargate_core::steps::doctor::{self, CheckStatus, DoctorEvent, DoctorReport, names};
use efs_fargate_core::steps::network;
use serde_json::{Value, json};
use workflow_tests::{CLUSTER, OrPanic, POD_ROLE, World, error_name};

async fn doctor(world: &World, input: Value) -> DoctorReport {
    let event: DoctorEvent = serde_json::from_value(json!({"action": "doctor", "input": input})).expect("an event");
    doctor::handle(&world.clients, &world.settings, event)
        .await
        .expect("the doctor reports")
        .output
}

/// `(name, status, error)` of every check, for one assertion over the whole report.
fn summary(report: &DoctorReport) -> Vec<(String, CheckStatus, Option<String>)> {
    report
        .checks
        .iter()
        .map(|c| (c.name.clone(), c.status, c.error.clone()))
        .collect()
}

fn failed(report: &DoctorReport) -> Vec<(&str, &str)> {
    report
        .failed()
        .map(|c| (c.name.as_str(), c.error.as_deref().unwrap_or("")))
        .collect()
}

async fn dns_hostnames_off(world: &World) {
    world
        .clients
        .ec2
        .modify_vpc_attribute()
        .vpc_id(&world.network().vpc_id)
        .enable_dns_hostnames(AttributeBooleanValue::builder().value(false).build())
        .send()
        .await
        .or_panic("ec2 modify_vpc_attribute");
}

/// Takes every free address of the first mount-target subnet with one network interface.
async fn fill_first_mount_target_subnet(world: &World) -> String {
    let cluster = efs_fargate_core::aws::eks::cluster(&world.clients.eks, CLUSTER)
        .await
        .expect("the cluster");
    let network = network::of_cluster(&world.clients.ec2, &cluster)
        .await
        .expect("the network");
    let subnet = network.mount_target_subnets[0].subnet_id.clone();
    let free = efs_fargate_core::aws::ec2::subnets(&world.clients.ec2, std::slice::from_ref(&subnet))
        .await
        .expect("the subnet")[0]
        .available_ip_address_count()
        .expect("moto counts free addresses");
    world
        .clients
        .ec2
        .create_network_interface()
        .subnet_id(&subnet)
        .secondary_private_ip_address_count(free - 1)
        .send()
        .await
        .or_panic("ec2 create_network_interface");
    subnet
}

async fn trust_only_ec2(world: &World) {
    world
        .clients
        .iam
        .update_assume_role_policy()
        .role_name(efs_fargate_core::aws::iam::role_name(POD_ROLE))
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .or_panic("iam update_assume_role_policy");
}

async fn remove_opt_in_tag(world: &World) {
    let arn = efs_fargate_core::aws::eks::cluster(&world.clients.eks, CLUSTER)
        .await
        .expect("the cluster")
        .arn()
        .expect("an ARN")
        .to_string();
    world
        .clients
        .eks
        .untag_resource()
        .resource_arn(arn)
        .tag_keys(OPT_IN_TAG_KEY)
        .send()
        .await
        .or_panic("eks untag_resource");
}

#[tokio::test]
async fn a_healthy_cluster_passes_every_check() {
    let world = World::new().await;
    let report = doctor(&world, json!({"clusterName": CLUSTER})).await;
    assert!(report.healthy, "{report:#?}");
    use CheckStatus::{Ok, Skipped};
    let expected: Vec<(String, CheckStatus, Option<String>)> = [
        (names::CLUSTER_STATUS, Ok),
        (names::OPT_IN_TAG, Ok),
        (names::PRIVATE_SUBNETS, Ok),
        (names::VPC_DNS, Ok),
        (names::SUBNET_ADDRESSES, Ok),
        // World's settings leave access entries alone (moto has none); the gateway tests check them.
        (names::AUTHENTICATION_MODE, Skipped),
        (names::ENDPOINT_ACCESS, Ok),
        (names::POD_EXECUTION_ROLE_TRUST, Ok),
        (names::POD_EXECUTION_ROLE_POLICY, Ok),
        (names::FILE_SYSTEM, Ok),
        (names::SECURITY_GROUP, Ok),
        (names::FARGATE_PROFILE, Ok),
        (names::ACCESS_ENTRY, Skipped),
        (names::CONTAINER_INSIGHTS, Skipped),
    ]
    .into_iter()
    .map(|(name, status)| (name.to_string(), status, None))
    .collect();
    assert_eq!(summary(&report), expected);
    // With Container Insights, the seeded cluster's OIDC provider passes its check.
    let insights = doctor(
        &world,
        json!({"clusterName": CLUSTER, "monitoring": {"containerInsights": true}}),
    )
    .await;
    assert!(insights.healthy, "{insights:#?}");
    let check = insights.check(names::CONTAINER_INSIGHTS).unwrap();
    assert_eq!(check.status, Ok, "{check:?}");
    assert!(
        check.explanation.contains("creates the cluster's collector role"),
        "{check:?}"
    );
    let role = report.check(names::POD_EXECUTION_ROLE_POLICY).unwrap();
    assert!(role.explanation.contains("inline policy"), "{role:?}");
    // A run prepares on it.
    world.run("team-a").await;
}

#[tokio::test]
async fn dns_hostnames_off_is_reported_and_refused_before_anything_is_created() {
    let world = World::new().await;
    dns_hostnames_off(&world).await;
    let report = doctor(&world, json!({"clusterName": CLUSTER})).await;
    assert_eq!(failed(&report), [(names::VPC_DNS, "VpcDnsDisabled")]);
    let check = report.check(names::VPC_DNS).unwrap();
    assert!(check.explanation.contains("enableDnsHostnames"), "{check:?}");
    assert!(check.explanation.contains("modify-vpc-attribute"), "the fix: {check:?}");
    let before = world.inventory().await;
    let (name, _) = error_name(world.try_prepare(json!({"clusterName": CLUSTER})).await);
    assert_eq!(name, "VpcDnsDisabled");
    assert_eq!(world.inventory().await, before);
}

#[tokio::test]
async fn a_full_mount_target_subnet_is_reported_by_name() {
    let world = World::new().await;
    let subnet = fill_first_mount_target_subnet(&world).await;
    let report = doctor(&world, json!({"clusterName": CLUSTER})).await;
    assert_eq!(failed(&report), [(names::SUBNET_ADDRESSES, "SubnetFull")]);
    let check = report.check(names::SUBNET_ADDRESSES).unwrap();
    assert!(check.explanation.contains(&subnet), "{check:?}");
    assert!(check.explanation.contains("0 free IP addresses"), "{check:?}");
    let before = world.inventory().await;
    let (name, _) = error_name(world.try_prepare(json!({"clusterName": CLUSTER})).await);
    assert_eq!(name, "SubnetFull");
    assert_eq!(world.inventory().await, before);
}

#[tokio::test]
async fn a_role_fargate_cannot_assume_or_that_does_not_exist_is_reported() {
    let world = World::new().await;
    trust_only_ec2(&world).await;
    let report = doctor(&world, json!({"clusterName": CLUSTER})).await;
    assert_eq!(
        failed(&report),
        [(names::POD_EXECUTION_ROLE_TRUST, "PodExecutionRoleInvalid")]
    );
    let check = report.check(names::POD_EXECUTION_ROLE_TRUST).unwrap();
    assert!(
        check.explanation.contains("eks-fargate-pods.amazonaws.com"),
        "{check:?}"
    );
    assert_eq!(
        report.check(names::POD_EXECUTION_ROLE_POLICY).unwrap().status,
        CheckStatus::Ok,
        "its permissions are still fine"
    );

    let missing = "arn:aws:iam::123456789012:role/NoSuchRole";
    let report = doctor(&world, json!({"clusterName": CLUSTER, "podExecutionRoleArn": missing})).await;
    let check = report.check(names::POD_EXECUTION_ROLE_TRUST).unwrap();
    assert_eq!(check.error.as_deref(), Some("PodExecutionRoleInvalid"));
    assert!(check.explanation.contains("does not exist"), "{check:?}");
    assert_eq!(
        report.check(names::POD_EXECUTION_ROLE_POLICY).unwrap().status,
        CheckStatus::Skipped
    );
    let before = world.inventory().await;
    let (name, _) = error_name(world.try_prepare(json!({"clusterName": CLUSTER})).await);
    assert_eq!(name, "PodExecutionRoleInvalid");
    assert_eq!(world.inventory().await, before);
}

#[tokio::test]
async fn an_untagged_cluster_is_reported_by_name() {
    let world = World::new().await;
    remove_opt_in_tag(&world).await;
    let report = doctor(&world, json!({"clusterName": CLUSTER})).await;
    assert_eq!(failed(&report), [(names::OPT_IN_TAG, "ClusterNotOptedIn")]);
    assert!(
        report
            .check(names::OPT_IN_TAG)
            .unwrap()
            .explanation
            .contains("aws eks tag-resource")
    );
}

#[tokio::test]
async fn every_failing_check_is_reported_at_once_and_prepare_fails_with_the_first() {
    let world = World::new().await.with_lease_table().await;
    dns_hostnames_off(&world).await;
    fill_first_mount_target_subnet(&world).await;
    trust_only_ec2(&world).await;
    remove_opt_in_tag(&world).await;
    let report = doctor(&world, json!({"clusterName": CLUSTER})).await;
    assert!(!report.healthy);
    assert_eq!(
        failed(&report),
        [
            (names::OPT_IN_TAG, "ClusterNotOptedIn"),
            (names::VPC_DNS, "VpcDnsDisabled"),
            (names::SUBNET_ADDRESSES, "SubnetFull"),
            (names::POD_EXECUTION_ROLE_TRUST, "PodExecutionRoleInvalid"),
        ]
    );
    assert_eq!(report.checks.len(), 14, "every check ran: {report:#?}");
    let before = world.inventory().await;
    let (name, _) = error_name(world.try_prepare(json!({"clusterName": CLUSTER})).await);
    assert_eq!(name, "ClusterNotOptedIn");
    assert_eq!(world.inventory().await, before, "nothing created");
    let leases = world
        .clients
        .dynamodb
        .scan()
        .table_name(workflow_tests::LEASE_TABLE)
        .send()
        .await
        .or_panic("dynamodb scan");
    assert_eq!(leases.count(), 0, "no lease taken");
}
