//! Clients, a prepared run and canned EKS/EC2/STS answers shared by the mocked tests.

pub use aws_sdk_eks::operation::describe_access_entry::{DescribeAccessEntryError, DescribeAccessEntryOutput};
pub use aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput;
pub use aws_sdk_eks::operation::describe_fargate_profile::{DescribeFargateProfileError, DescribeFargateProfileOutput};
pub use aws_sdk_eks::types::error::ResourceNotFoundException;
pub use aws_sdk_eks::types::{
    AccessConfigResponse, AccessEntry, AccessScope, AccessScopeType, AssociatedAccessPolicy, AuthenticationMode,
    Cluster, ClusterStatus, FargateProfile, FargateProfileHealth, FargateProfileIssue, FargateProfileIssueCode,
    FargateProfileSelector, FargateProfileStatus, VpcConfigResponse,
};
pub use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
pub use efs_fargate_core::clients::AwsClients;
pub use efs_fargate_core::input::{Encryption, OnFailure, ProvisionRequest};
pub use efs_fargate_core::ledger::{Record, RecordState};
pub use efs_fargate_core::ownership::Owner;
pub use efs_fargate_core::resources::Kind;
pub use efs_fargate_core::run::{AccessGrant, AccessStatus, Network, Run, Subnet};
pub use efs_fargate_core::settings::{AccessEntryMode, Settings};
pub use efs_fargate_core::steps::cleanup::{CleanupAction, CleanupEvent, cleanup};
pub use efs_fargate_core::steps::fargate;
pub use efs_fargate_core::steps::prepare::{PrepareEvent, PrepareOutput, prepare};
pub use serde_json::json;
pub const CLUSTER: &str = "demo";
pub const NAMESPACE: &str = "poc-efs-eks-fargate";
pub const ROLE: &str = "arn:aws:iam::123456789012:role/pods";
pub const CALLER: &str = "arn:aws:sts::123456789012:assumed-role/efs-workflow/session";
pub const PRINCIPAL: &str = "arn:aws:iam::123456789012:role/efs-workflow";
pub const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

pub fn settings() -> Settings {
    Settings {
        pod_execution_role_arn: Some(ROLE.into()),
        ledger_table_name: Some(LEDGER.into()),
        ..Settings::default()
    }
}

/// The mocked ledger's table.
pub const LEDGER: &str = "ledger";

/// What the ledger records for the namespace (or, with `namespace` `None`, the cluster shares):
/// `kind` `key` created as `id` by run-1.
pub fn record(namespace: Option<&str>, kind: Kind, key: &str, id: &str) -> Record {
    Record {
        kind,
        key: key.into(),
        cluster: Some(CLUSTER.into()),
        namespace: namespace.map(str::to_string),
        resource_id: Some(id.into()),
        run: "run-1".into(),
        generation: 1,
        state: RecordState::Created,
        recorded_at: "2026-01-01T00:00:00Z".into(),
        attributes: Default::default(),
        users: Default::default(),
    }
}

/// A DynamoDB that holds `records` for the ledger: every read sees them (a Query all of them, a
/// GetItem the one under its key), and every write succeeds. A namespace's header says run-1 began
/// generation 1.
pub fn ledger_rules(records: Vec<Record>) -> Vec<Rule> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let items: Vec<_> = records.iter().map(Record::to_item).collect();
    let header = || {
        std::collections::HashMap::from([
            ("itemType".to_string(), AttributeValue::S("header".into())),
            ("cluster".to_string(), AttributeValue::S(CLUSTER.into())),
            ("namespace".to_string(), AttributeValue::S(NAMESPACE.into())),
            ("generation".to_string(), AttributeValue::N("1".into())),
            ("run".to_string(), AttributeValue::S("run-1".into())),
        ])
    };
    let query_items = items.clone();
    let get_items = items.clone();
    let update_items = items;
    vec![
        mock!(aws_sdk_dynamodb::Client::query).then_output(move || {
            aws_sdk_dynamodb::operation::query::QueryOutput::builder()
                .set_items(Some(query_items.clone()))
                .build()
        }),
        mock!(aws_sdk_dynamodb::Client::get_item).then_compute_output(move |input| {
            let sk = input.key().and_then(|k| k.get("sk")).cloned();
            aws_sdk_dynamodb::operation::get_item::GetItemOutput::builder()
                .set_item(get_items.iter().find(|item| item.get("sk") == sk.as_ref()).cloned())
                .build()
        }),
        mock!(aws_sdk_dynamodb::Client::put_item)
            .then_output(|| aws_sdk_dynamodb::operation::put_item::PutItemOutput::builder().build()),
        mock!(aws_sdk_dynamodb::Client::update_item).then_compute_output(move |input| {
            let sk = input
                .key()
                .and_then(|k| k.get("sk"))
                .and_then(|v| v.as_s().ok())
                .cloned();
            let item = match sk {
                Some(sk) if sk.ends_with('@') => header(),
                _ => update_items
                    .first()
                    .cloned()
                    .unwrap_or_else(|| record(Some(NAMESPACE), Kind::FileSystem, "token", "fs-1").to_item()),
            };
            aws_sdk_dynamodb::operation::update_item::UpdateItemOutput::builder()
                .set_attributes(Some(item))
                .build()
        }),
        mock!(aws_sdk_dynamodb::Client::delete_item)
            .then_output(|| aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput::builder().build()),
    ]
}

/// [`settings`] on a clock a thousand times faster: in-function waits of milliseconds.
pub fn fast_clock() -> Settings {
    Settings {
        time_scale: efs_fargate_core::time_scale::TimeScale::new(0.001).unwrap(),
        ..settings()
    }
}

pub fn owner() -> Owner {
    Owner::new(CLUSTER, NAMESPACE)
}

pub fn subnet(id: &str, az: &str, cidr: &str) -> Subnet {
    Subnet {
        availability_zone: az.into(),
        subnet_id: id.into(),
        cidr_block: cidr.into(),
    }
}

pub fn run() -> Run {
    let private = vec![
        subnet("subnet-a", "us-east-1a", "10.0.10.0/24"),
        subnet("subnet-b", "us-east-1b", "10.0.11.0/24"),
    ];
    Run {
        run_id: "run-1".into(),
        generation: 1,
        deployment: "local".into(),
        request: ProvisionRequest {
            cluster_name: CLUSTER.into(),
            namespace: NAMESPACE.into(),
            pod_execution_role_arn: ROLE.into(),
            encryption: Encryption::default(),
            file_system: Default::default(),
            posix_user: Default::default(),
            monitoring: Default::default(),
            ttl: None,
            deploy_poc_app: true,
            on_failure: OnFailure::Rollback,
            adopt: vec![],
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

/// [`run`] on the network [`network_rules`] describes: the only private subnet is subnet-a.
pub fn run_on_mocked_network() -> Run {
    let private = vec![subnet("subnet-a", "us-east-1a", "10.0.10.0/24")];
    Run {
        network: Network {
            vpc_id: "vpc-1".into(),
            mount_target_subnets: private.clone(),
            private_subnets: private,
            cluster_security_group_id: None,
        },
        ..run()
    }
}

/// Clients whose every call must match one of `rules`; unmatched calls fail the test.
#[derive(Default)]
pub struct Mocks {
    pub cloudwatch: Vec<Rule>,
    pub dynamodb: Vec<Rule>,
    pub eks: Vec<Rule>,
    pub ec2: Vec<Rule>,
    pub efs: Vec<Rule>,
    pub iam: Vec<Rule>,
    pub sfn: Vec<Rule>,
    pub sts: Vec<Rule>,
}

impl Mocks {
    pub fn clients(&self) -> AwsClients {
        AwsClients {
            config: aws_config::SdkConfig::builder()
                .region(aws_config::Region::new("us-east-1"))
                .build(),
            cloudwatch: mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &self.cloudwatch),
            dynamodb: mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &self.dynamodb),
            ec2: mock_client!(aws_sdk_ec2, RuleMode::MatchAny, &self.ec2),
            efs: mock_client!(aws_sdk_efs, RuleMode::MatchAny, &self.efs),
            eks: mock_client!(aws_sdk_eks, RuleMode::MatchAny, &self.eks),
            iam: mock_client!(aws_sdk_iam, RuleMode::MatchAny, &self.iam),
            kms: mock_client!(aws_sdk_kms, RuleMode::MatchAny, &[]),
            sfn: mock_client!(aws_sdk_sfn, RuleMode::MatchAny, &self.sfn),
            sts: mock_client!(aws_sdk_sts, RuleMode::MatchAny, &self.sts),
        }
    }
}

pub fn cluster(status: ClusterStatus, mode: AuthenticationMode) -> Cluster {
    Cluster::builder()
        .name(CLUSTER)
        .arn("arn:aws:eks:us-east-1:123456789012:cluster/demo")
        .status(status)
        .resources_vpc_config(
            VpcConfigResponse::builder()
                .subnet_ids("subnet-a")
                .subnet_ids("subnet-pub")
                .endpoint_public_access(true)
                .build(),
        )
        .access_config(AccessConfigResponse::builder().authentication_mode(mode).build())
        .tags(efs_fargate_core::ownership::OPT_IN_TAG_KEY, "true")
        .build()
}

pub fn describe_cluster(status: ClusterStatus, mode: AuthenticationMode) -> Rule {
    mock!(aws_sdk_eks::Client::describe_cluster).then_output(move || {
        DescribeClusterOutput::builder()
            .cluster(cluster(status.clone(), mode.clone()))
            .build()
    })
}

pub fn caller_identity() -> Rule {
    mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
        aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput::builder()
            .arn(CALLER)
            .build()
    })
}

/// The EC2 view of a VPC with one public subnet (IGW route) and one private subnet (main table, NAT).
pub fn network_rules() -> Vec<Rule> {
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
                        .available_ip_address_count(250)
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
        mock!(aws_sdk_ec2::Client::describe_security_groups).then_output(|| {
            aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput::builder().build()
        }),
        mock!(aws_sdk_ec2::Client::describe_vpc_attribute).then_output(|| {
            let on = aws_sdk_ec2::types::AttributeBooleanValue::builder().value(true).build();
            aws_sdk_ec2::operation::describe_vpc_attribute::DescribeVpcAttributeOutput::builder()
                .enable_dns_support(on.clone())
                .enable_dns_hostnames(on)
                .build()
        }),
    ]
}

/// IAM's view of [`ROLE`]: trusted by Fargate, with AmazonEKSFargatePodExecutionRolePolicy.
pub fn pod_role_rules() -> Vec<Rule> {
    vec![
        mock!(aws_sdk_iam::Client::get_role).then_output(|| {
            aws_sdk_iam::operation::get_role::GetRoleOutput::builder()
                .role(
                    aws_sdk_iam::types::Role::builder()
                        .path("/")
                        .role_name("pods")
                        .role_id("AROA1")
                        .arn(ROLE)
                        .create_date(aws_smithy_types::DateTime::from_secs(0))
                        .assume_role_policy_document(
                            "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22eks-fargate-pods.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D",
                        )
                        .build()
                        .expect("a role"),
                )
                .build()
        }),
        mock!(aws_sdk_iam::Client::list_attached_role_policies).then_output(|| {
            aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput::builder()
                .attached_policies(
                    aws_sdk_iam::types::AttachedPolicy::builder()
                        .policy_arn("arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy")
                        .build(),
                )
                .build()
        }),
    ]
}

/// Nothing under the workflow's names yet: no file system with our token, no security group with
/// our name (see [`network_rules`]), no Fargate profile `fp-<namespace>`.
pub fn no_file_systems() -> Rule {
    mock!(aws_sdk_efs::Client::describe_file_systems)
        .then_output(|| aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput::builder().build())
}

pub fn no_fargate_profile() -> Rule {
    mock!(aws_sdk_eks::Client::describe_fargate_profile).then_error(|| {
        aws_sdk_eks::operation::describe_fargate_profile::DescribeFargateProfileError::ResourceNotFoundException(
            not_found(),
        )
    })
}

/// One action of a manual cleanup of `namespace` on [`CLUSTER`], on its first attempt.
pub fn cleanup_event(action: CleanupAction, namespace: &str) -> CleanupEvent {
    CleanupEvent {
        action,
        cluster_name: CLUSTER.into(),
        namespace: namespace.into(),
        run_id: None,
        generation: None,
        execution_arn: None,
        attempt: 0,
        removed: vec![],
    }
}

pub fn prepare_event() -> PrepareEvent {
    PrepareEvent {
        execution_arn: None,
        run_id: "run-1".into(),
        started_at: None,
        input: json!({"clusterName": CLUSTER}),
        attempt: 2,
    }
}

pub fn not_found() -> ResourceNotFoundException {
    ResourceNotFoundException::builder().message("not found").build()
}
