//! What moto cannot show, with `aws-smithy-mocks`: status progressions (CREATING -> ACTIVE),
//! `ResourceInUseException`, `DependencyViolation` and EKS access entries.

use aws_sdk_eks::operation::describe_access_entry::{DescribeAccessEntryError, DescribeAccessEntryOutput};
use aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput;
use aws_sdk_eks::operation::describe_fargate_profile::{DescribeFargateProfileError, DescribeFargateProfileOutput};
use aws_sdk_eks::types::error::ResourceNotFoundException;
use aws_sdk_eks::types::{
    AccessConfigResponse, AccessEntry, AccessScope, AccessScopeType, AssociatedAccessPolicy, AuthenticationMode,
    Cluster, ClusterStatus, FargateProfile, FargateProfileHealth, FargateProfileIssue, FargateProfileIssueCode,
    FargateProfileSelector, FargateProfileStatus, VpcConfigResponse,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::input::{Encryption, OnFailure, ProvisionRequest};
use efs_fargate_core::ownership::Owner;
use efs_fargate_core::run::{AccessGrant, AccessStatus, Network, Run, Subnet};
use efs_fargate_core::settings::{AccessEntryMode, Settings};
use efs_fargate_core::steps::cleanup::{CleanupAction, CleanupEvent, cleanup};
use efs_fargate_core::steps::prepare::{PrepareEvent, PrepareOutput, prepare};
use efs_fargate_core::steps::{access, fargate};
use serde_json::json;

const CLUSTER: &str = "demo";
const NAMESPACE: &str = "poc-efs-eks-fargate";
const ROLE: &str = "arn:aws:iam::123456789012:role/pods";
const CALLER: &str = "arn:aws:sts::123456789012:assumed-role/efs-workflow/session";
const PRINCIPAL: &str = "arn:aws:iam::123456789012:role/efs-workflow";
const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

fn settings() -> Settings {
    Settings {
        pod_execution_role_arn: Some(ROLE.into()),
        ..Settings::default()
    }
}

fn owner() -> Owner {
    Owner::new(CLUSTER, NAMESPACE)
}

fn subnet(id: &str, az: &str, cidr: &str) -> Subnet {
    Subnet {
        availability_zone: az.into(),
        subnet_id: id.into(),
        cidr_block: cidr.into(),
    }
}

fn run() -> Run {
    let private = vec![
        subnet("subnet-a", "us-east-1a", "10.0.10.0/24"),
        subnet("subnet-b", "us-east-1b", "10.0.11.0/24"),
    ];
    Run {
        run_id: "run-1".into(),
        request: ProvisionRequest {
            cluster_name: CLUSTER.into(),
            namespace: NAMESPACE.into(),
            pod_execution_role_arn: ROLE.into(),
            encryption: Encryption::default(),
            ttl: None,
            deploy_poc_app: true,
            on_failure: OnFailure::Rollback,
        },
        expires_at: None,
        network: Network {
            vpc_id: "vpc-1".into(),
            mount_target_subnets: private.clone(),
            private_subnets: private,
            cluster_security_group_id: None,
        },
        access: AccessGrant {
            principal_arn: PRINCIPAL.into(),
            status: AccessStatus::Skipped,
        },
    }
}

/// Clients whose every call must match one of `rules`; unmatched calls fail the test.
#[derive(Default)]
struct Mocks {
    eks: Vec<Rule>,
    ec2: Vec<Rule>,
    efs: Vec<Rule>,
    sts: Vec<Rule>,
}

impl Mocks {
    fn clients(&self) -> AwsClients {
        AwsClients {
            config: aws_config::SdkConfig::builder()
                .region(aws_config::Region::new("us-east-1"))
                .build(),
            ec2: mock_client!(aws_sdk_ec2, RuleMode::MatchAny, &self.ec2),
            efs: mock_client!(aws_sdk_efs, RuleMode::MatchAny, &self.efs),
            eks: mock_client!(aws_sdk_eks, RuleMode::MatchAny, &self.eks),
            kms: mock_client!(aws_sdk_kms, RuleMode::MatchAny, &[]),
            sfn: mock_client!(aws_sdk_sfn, RuleMode::MatchAny, &[]),
            sts: mock_client!(aws_sdk_sts, RuleMode::MatchAny, &self.sts),
        }
    }
}

fn cluster(status: ClusterStatus, mode: AuthenticationMode) -> Cluster {
    Cluster::builder()
        .name(CLUSTER)
        .arn("arn:aws:eks:us-east-1:123456789012:cluster/demo")
        .status(status)
        .resources_vpc_config(
            VpcConfigResponse::builder()
                .subnet_ids("subnet-a")
                .subnet_ids("subnet-pub")
                .build(),
        )
        .access_config(AccessConfigResponse::builder().authentication_mode(mode).build())
        .build()
}

fn describe_cluster(status: ClusterStatus, mode: AuthenticationMode) -> Rule {
    mock!(aws_sdk_eks::Client::describe_cluster).then_output(move || {
        DescribeClusterOutput::builder()
            .cluster(cluster(status.clone(), mode.clone()))
            .build()
    })
}

fn caller_identity() -> Rule {
    mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
        aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput::builder()
            .arn(CALLER)
            .build()
    })
}

/// The EC2 view of a VPC with one public subnet (IGW route) and one private subnet (main table, NAT).
fn network_rules() -> Vec<Rule> {
    use aws_sdk_ec2::types::{Route, RouteTable, RouteTableAssociation};
    vec![
        mock!(aws_sdk_ec2::Client::describe_subnets).then_output(|| {
            aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput::builder()
                .subnets(
                    aws_sdk_ec2::types::Subnet::builder()
                        .subnet_id("subnet-a")
                        .vpc_id("vpc-1")
                        .availability_zone("us-east-1a")
                        .cidr_block("10.0.10.0/24")
                        .build(),
                )
                .subnets(
                    aws_sdk_ec2::types::Subnet::builder()
                        .subnet_id("subnet-pub")
                        .vpc_id("vpc-1")
                        .availability_zone("us-east-1a")
                        .cidr_block("10.0.0.0/24")
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_ec2::Client::describe_route_tables).then_output(|| {
            aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput::builder()
                .route_tables(
                    RouteTable::builder()
                        .associations(RouteTableAssociation::builder().subnet_id("subnet-pub").build())
                        .routes(
                            Route::builder()
                                .destination_cidr_block("0.0.0.0/0")
                                .gateway_id("igw-1")
                                .build(),
                        )
                        .build(),
                )
                .route_tables(
                    RouteTable::builder()
                        .associations(RouteTableAssociation::builder().main(true).build())
                        .routes(
                            Route::builder()
                                .destination_cidr_block("0.0.0.0/0")
                                .nat_gateway_id("nat-1")
                                .build(),
                        )
                        .build(),
                )
                .build()
        }),
    ]
}

fn prepare_event() -> PrepareEvent {
    PrepareEvent {
        run_id: "run-1".into(),
        started_at: None,
        input: json!({"clusterName": CLUSTER}),
        attempt: 2,
    }
}

fn not_found() -> ResourceNotFoundException {
    ResourceNotFoundException::builder().message("not found").build()
}

#[tokio::test]
async fn prepare_waits_while_the_cluster_is_creating() {
    let mocks = Mocks {
        eks: vec![describe_cluster(ClusterStatus::Creating, AuthenticationMode::Api)],
        ec2: vec![],
        sts: vec![],
        ..Default::default()
    };
    let output = prepare(&mocks.clients(), &settings(), prepare_event()).await.unwrap();
    assert_eq!(
        output,
        PrepareOutput::Waiting {
            next_poll_seconds: 30,
            attempt: 3,
            cluster_status: "CREATING".into()
        }
    );
}

#[tokio::test]
async fn prepare_rejects_failed_and_deleting_clusters() {
    for status in [ClusterStatus::Failed, ClusterStatus::Deleting] {
        let mocks = Mocks {
            eks: vec![describe_cluster(status.clone(), AuthenticationMode::Api)],
            ec2: vec![],
            sts: vec![],
            ..Default::default()
        };
        let err = prepare(&mocks.clients(), &settings(), prepare_event())
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "ClusterNotActive", "{status:?}");
        assert!(err.to_string().contains(status.as_str()));
    }
}

#[tokio::test]
async fn prepare_creates_a_tagged_access_entry_with_the_cluster_admin_policy() {
    let describe_entry = mock!(aws_sdk_eks::Client::describe_access_entry)
        .then_error(|| DescribeAccessEntryError::ResourceNotFoundException(not_found()));
    let create_entry = mock!(aws_sdk_eks::Client::create_access_entry)
        .match_requests(|r| {
            r.principal_arn() == Some(PRINCIPAL)
                && r.tags()
                    .is_some_and(|t| t.get("efs-fargate-workflow/namespace").map(String::as_str) == Some(NAMESPACE))
        })
        .then_output(|| aws_sdk_eks::operation::create_access_entry::CreateAccessEntryOutput::builder().build());
    let associate = mock!(aws_sdk_eks::Client::associate_access_policy)
        .match_requests(|r| {
            r.policy_arn() == Some(ADMIN_POLICY)
                && r.access_scope().and_then(|s| s.r#type()) == Some(&AccessScopeType::Cluster)
        })
        .then_output(|| {
            aws_sdk_eks::operation::associate_access_policy::AssociateAccessPolicyOutput::builder().build()
        });
    let mocks = Mocks {
        eks: vec![
            describe_cluster(ClusterStatus::Active, AuthenticationMode::ApiAndConfigMap),
            describe_entry,
            create_entry.clone(),
            associate.clone(),
        ],
        ec2: network_rules(),
        sts: vec![caller_identity()],
        ..Default::default()
    };
    let PrepareOutput::Ready { run } = prepare(&mocks.clients(), &settings(), prepare_event()).await.unwrap() else {
        panic!("not ready")
    };
    assert_eq!(
        run.access,
        AccessGrant {
            principal_arn: PRINCIPAL.into(),
            status: AccessStatus::Created
        }
    );
    assert_eq!(
        run.network.private_subnets,
        vec![subnet("subnet-a", "us-east-1a", "10.0.10.0/24")]
    );
    assert_eq!(create_entry.num_calls(), 1);
    assert_eq!(associate.num_calls(), 1);
}

#[tokio::test]
async fn config_map_only_clusters_are_refused_with_instructions() {
    let mocks = Mocks {
        eks: vec![describe_cluster(ClusterStatus::Active, AuthenticationMode::ConfigMap)],
        ec2: network_rules(),
        sts: vec![caller_identity()],
        ..Default::default()
    };
    let err = prepare(&mocks.clients(), &settings(), prepare_event())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ClusterAccessNotGranted");
    assert!(err.to_string().contains("API_AND_CONFIG_MAP"), "{err}");
}

fn existing_entry(tags: Vec<(String, String)>) -> Rule {
    mock!(aws_sdk_eks::Client::describe_access_entry).then_output(move || {
        DescribeAccessEntryOutput::builder()
            .access_entry(
                AccessEntry::builder()
                    .principal_arn(PRINCIPAL)
                    .set_tags(Some(tags.clone().into_iter().collect()))
                    .build(),
            )
            .build()
    })
}

fn associated_policies(policy: &'static str) -> Rule {
    mock!(aws_sdk_eks::Client::list_associated_access_policies).then_output(move || {
        aws_sdk_eks::operation::list_associated_access_policies::ListAssociatedAccessPoliciesOutput::builder()
            .associated_access_policies(
                AssociatedAccessPolicy::builder()
                    .policy_arn(policy)
                    .access_scope(AccessScope::builder().r#type(AccessScopeType::Cluster).build())
                    .build(),
            )
            .build()
    })
}

#[tokio::test]
async fn an_existing_entry_with_rights_is_reused_and_one_without_is_refused() {
    let cluster = cluster(ClusterStatus::Active, AuthenticationMode::Api);
    let mocks = Mocks {
        eks: vec![existing_entry(vec![]), associated_policies(ADMIN_POLICY)],
        ec2: vec![],
        sts: vec![],
        ..Default::default()
    };
    let grant = access::ensure_access(
        &mocks.clients().eks,
        &cluster,
        &owner(),
        PRINCIPAL.into(),
        vec![],
        &AccessEntryMode::Manage,
    )
    .await
    .unwrap();
    assert_eq!(grant.status, AccessStatus::Existing);

    let view_only = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
    let mocks = Mocks {
        eks: vec![existing_entry(vec![]), associated_policies(view_only)],
        ec2: vec![],
        sts: vec![],
        ..Default::default()
    };
    let err = access::ensure_access(
        &mocks.clients().eks,
        &cluster,
        &owner(),
        PRINCIPAL.into(),
        vec![],
        &AccessEntryMode::Manage,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "ClusterAccessNotGranted");
}

#[tokio::test]
async fn cleanup_removes_only_access_entries_tagged_as_ours() {
    let ours = owner().tags("x", "run-1", None);
    let list = mock!(aws_sdk_eks::Client::list_access_entries).then_output(|| {
        aws_sdk_eks::operation::list_access_entries::ListAccessEntriesOutput::builder()
            .access_entries(PRINCIPAL)
            .access_entries("arn:aws:iam::123456789012:role/admin")
            .build()
    });
    let describe_ours = mock!(aws_sdk_eks::Client::describe_access_entry)
        .match_requests(|r| r.principal_arn() == Some(PRINCIPAL))
        .then_output(move || {
            DescribeAccessEntryOutput::builder()
                .access_entry(
                    AccessEntry::builder()
                        .principal_arn(PRINCIPAL)
                        .set_tags(Some(ours.clone().into_iter().collect()))
                        .build(),
                )
                .build()
        });
    let describe_foreign = mock!(aws_sdk_eks::Client::describe_access_entry).then_output(|| {
        DescribeAccessEntryOutput::builder()
            .access_entry(AccessEntry::builder().build())
            .build()
    });
    let delete = mock!(aws_sdk_eks::Client::delete_access_entry)
        .match_requests(|r| r.principal_arn() == Some(PRINCIPAL))
        .then_output(|| aws_sdk_eks::operation::delete_access_entry::DeleteAccessEntryOutput::builder().build());
    let no_file_systems = mock!(aws_sdk_efs::Client::describe_file_systems)
        .then_output(|| aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput::builder().build());
    let no_profiles = mock!(aws_sdk_eks::Client::list_fargate_profiles)
        .then_output(|| aws_sdk_eks::operation::list_fargate_profiles::ListFargateProfilesOutput::builder().build());
    let mocks = Mocks {
        eks: vec![list, describe_ours, describe_foreign, delete.clone(), no_profiles],
        efs: vec![no_file_systems],
        ..Default::default()
    };
    let event = CleanupEvent {
        action: CleanupAction::AccessEntry,
        cluster_name: CLUSTER.into(),
        namespace: NAMESPACE.into(),
        attempt: 0,
    };
    let progress = cleanup(&mocks.clients(), &settings(), event).await.unwrap();
    assert_eq!(progress.removed, vec![PRINCIPAL.to_string()]);
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test]
async fn the_shared_access_entry_stays_while_another_namespace_is_provisioned() {
    let ours = Owner::new(CLUSTER, "team-a").tags("x", "run-1", None);
    let list = mock!(aws_sdk_eks::Client::list_access_entries).then_output(|| {
        aws_sdk_eks::operation::list_access_entries::ListAccessEntriesOutput::builder()
            .access_entries(PRINCIPAL)
            .build()
    });
    let describe = mock!(aws_sdk_eks::Client::describe_access_entry).then_output(move || {
        DescribeAccessEntryOutput::builder()
            .access_entry(
                AccessEntry::builder()
                    .principal_arn(PRINCIPAL)
                    .set_tags(Some(ours.clone().into_iter().collect()))
                    .build(),
            )
            .build()
    });
    let other_namespace = Owner::new(CLUSTER, "team-b").tags("fs", "run-2", None);
    let file_systems = mock!(aws_sdk_efs::Client::describe_file_systems).then_output(move || {
        let tags: Vec<aws_sdk_efs::types::Tag> = other_namespace
            .iter()
            .map(|(k, v)| aws_sdk_efs::types::Tag::builder().key(k).value(v).build().unwrap())
            .collect();
        aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput::builder()
            .file_systems(
                aws_sdk_efs::types::FileSystemDescription::builder()
                    .file_system_id("fs-12345678")
                    .owner_id("123456789012")
                    .creation_token("t")
                    .creation_time(aws_smithy_types::DateTime::from_secs(0))
                    .life_cycle_state(aws_sdk_efs::types::LifeCycleState::Available)
                    .number_of_mount_targets(0)
                    .performance_mode(aws_sdk_efs::types::PerformanceMode::GeneralPurpose)
                    .size_in_bytes(aws_sdk_efs::types::FileSystemSize::builder().value(0).build())
                    .set_tags(Some(tags))
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let no_profiles = mock!(aws_sdk_eks::Client::list_fargate_profiles)
        .then_output(|| aws_sdk_eks::operation::list_fargate_profiles::ListFargateProfilesOutput::builder().build());
    let delete = mock!(aws_sdk_eks::Client::delete_access_entry)
        .then_output(|| aws_sdk_eks::operation::delete_access_entry::DeleteAccessEntryOutput::builder().build());
    let mocks = Mocks {
        eks: vec![list, describe, no_profiles, delete.clone()],
        efs: vec![file_systems],
        ..Default::default()
    };
    let event = CleanupEvent {
        action: CleanupAction::AccessEntry,
        cluster_name: CLUSTER.into(),
        namespace: "team-a".into(),
        attempt: 0,
    };
    let progress = cleanup(&mocks.clients(), &settings(), event).await.unwrap();
    assert!(progress.done && progress.removed.is_empty(), "{progress:?}");
    assert_eq!(
        progress.kept,
        [format!("{PRINCIPAL} (still used by namespaces team-b)")]
    );
    assert_eq!(delete.num_calls(), 0);
}

fn profile(status: FargateProfileStatus) -> FargateProfile {
    FargateProfile::builder()
        .fargate_profile_name(format!("fp-{NAMESPACE}"))
        .status(status)
        .pod_execution_role_arn(ROLE)
        .subnets("subnet-a")
        .subnets("subnet-b")
        .selectors(FargateProfileSelector::builder().namespace(NAMESPACE).build())
        .set_tags(Some(owner().tags("x", "run-1", None).into_iter().collect()))
        .health(
            FargateProfileHealth::builder()
                .issues(
                    FargateProfileIssue::builder()
                        .code(FargateProfileIssueCode::PodExecutionRoleAlreadyInUse)
                        .message("role in use")
                        .build(),
                )
                .build(),
        )
        .build()
}

#[tokio::test]
async fn fargate_status_goes_from_creating_to_active() {
    let describe = mock!(aws_sdk_eks::Client::describe_fargate_profile)
        .sequence()
        .output(|| {
            DescribeFargateProfileOutput::builder()
                .fargate_profile(profile(FargateProfileStatus::Creating))
                .build()
        })
        .times(2)
        .output(|| {
            DescribeFargateProfileOutput::builder()
                .fargate_profile(profile(FargateProfileStatus::Active))
                .build()
        })
        .build();
    let eks = mock_client!(aws_sdk_eks, RuleMode::Sequential, &[&describe]);
    let mut polls = Vec::new();
    let mut attempt = 0;
    loop {
        let poll = fargate::profile_status(&eks, &settings(), &run(), attempt)
            .await
            .unwrap();
        attempt = poll.attempt;
        polls.push((poll.ready, poll.next_poll_seconds));
        if poll.ready {
            break;
        }
    }
    assert_eq!(polls, vec![(false, 15), (false, 15), (true, 0)]);
    assert_eq!(attempt, 3);
}

#[tokio::test]
async fn a_failed_profile_reports_its_health_issues() {
    let describe = mock!(aws_sdk_eks::Client::describe_fargate_profile).then_output(|| {
        DescribeFargateProfileOutput::builder()
            .fargate_profile(profile(FargateProfileStatus::CreateFailed))
            .build()
    });
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, &[&describe]);
    let err = fargate::profile_status(&eks, &settings(), &run(), 0).await.unwrap_err();
    assert_eq!(err.error_type(), "FargateProfileFailed");
    assert!(err.to_string().contains("role in use"), "{err}");
}

#[tokio::test]
async fn another_profile_in_flight_makes_creation_retryable_busy() {
    let describe = mock!(aws_sdk_eks::Client::describe_fargate_profile)
        .then_error(|| DescribeFargateProfileError::ResourceNotFoundException(not_found()));
    let create = mock!(aws_sdk_eks::Client::create_fargate_profile).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(409).unwrap(),
            aws_smithy_types::body::SdkBody::from(
                r#"{"__type":"ResourceInUseException","message":"Cannot create Fargate Profile fp-x because cluster demo currently has Fargate profile fp-y in status CREATING"}"#,
            ),
        )
    });
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, &[&describe, &create]);
    let err = fargate::ensure_profile(&eks, &run()).await.unwrap_err();
    assert_eq!(err.error_type(), "FargateProfileBusy");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("fp-y in status CREATING"), "{err}");
}

#[tokio::test]
async fn profile_cleanup_waits_while_deleting_and_ends_when_gone() {
    let describe = mock!(aws_sdk_eks::Client::describe_fargate_profile)
        .sequence()
        .output(|| {
            DescribeFargateProfileOutput::builder()
                .fargate_profile(profile(FargateProfileStatus::Deleting))
                .build()
        })
        .error(|| DescribeFargateProfileError::ResourceNotFoundException(not_found()))
        .build();
    let mocks = Mocks {
        eks: vec![describe],
        ec2: vec![],
        sts: vec![],
        ..Default::default()
    };
    let clients = mocks.clients();
    let event = |attempt| CleanupEvent {
        action: CleanupAction::FargateProfile,
        cluster_name: CLUSTER.into(),
        namespace: NAMESPACE.into(),
        attempt,
    };
    let first = cleanup(&clients, &settings(), event(0)).await.unwrap();
    assert!(!first.done);
    assert_eq!(first.next_poll_seconds, 10);
    let second = cleanup(&clients, &settings(), event(first.attempt)).await.unwrap();
    assert!(second.done);
    assert_eq!(second.attempt, 2);
}

#[tokio::test]
async fn a_security_group_still_in_use_is_a_retryable_dependency_error() {
    let describe = mock!(aws_sdk_ec2::Client::describe_security_groups).then_output(|| {
        aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput::builder()
            .security_groups(
                aws_sdk_ec2::types::SecurityGroup::builder()
                    .group_id("sg-1")
                    .vpc_id("vpc-1")
                    .build(),
            )
            .build()
    });
    let delete = mock!(aws_sdk_ec2::Client::delete_security_group).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
            aws_smithy_types::body::SdkBody::from(
                "<Response><Errors><Error><Code>DependencyViolation</Code><Message>resource sg-1 has a dependent object</Message></Error></Errors><RequestID>r</RequestID></Response>",
            ),
        )
    });
    let mocks = Mocks {
        eks: vec![],
        ec2: vec![describe, delete],
        sts: vec![],
        ..Default::default()
    };
    let event = CleanupEvent {
        action: CleanupAction::SecurityGroup,
        cluster_name: CLUSTER.into(),
        namespace: NAMESPACE.into(),
        attempt: 0,
    };
    let err = cleanup(&mocks.clients(), &settings(), event).await.unwrap_err();
    assert_eq!(err.error_type(), "DependencyNotReady");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("dependent object"), "{err}");
}
