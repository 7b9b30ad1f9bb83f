//! `prepare`: waiting for the cluster, refusing unusable clusters, granting access.

use crate::fixtures::*;

#[tokio::test]
async fn prepare_waits_while_the_cluster_is_creating() {
    let mocks = Mocks {
        eks: vec![describe_cluster(ClusterStatus::Creating, AuthenticationMode::Api)],
        ..Default::default()
    };
    let poll = prepare(&mocks.clients(), &settings(), prepare_event()).await.unwrap();
    assert_eq!((poll.ready, poll.next_poll_seconds, poll.attempt), (false, 30, 3));
    assert_eq!(
        poll.output,
        PrepareOutput::Waiting {
            cluster_status: "CREATING".into()
        }
    );
}

#[tokio::test]
async fn prepare_rejects_failed_and_deleting_clusters() {
    for status in [ClusterStatus::Failed, ClusterStatus::Deleting] {
        let mocks = Mocks {
            eks: vec![describe_cluster(status.clone(), AuthenticationMode::Api)],
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
async fn prepare_creates_a_tagged_access_entry_with_only_the_workflows_group_and_no_policy() {
    let describe_entry = mock!(aws_sdk_eks::Client::describe_access_entry)
        .sequence()
        .error(|| DescribeAccessEntryError::ResourceNotFoundException(not_found()))
        .output(|| {
            DescribeAccessEntryOutput::builder()
                .access_entry(
                    AccessEntry::builder()
                        .principal_arn(PRINCIPAL)
                        .access_entry_arn("arn:aws:eks:us-east-1:123456789012:access-entry/demo/role/x/1")
                        .build(),
                )
                .build()
        })
        .build();
    let create_entry = mock!(aws_sdk_eks::Client::create_access_entry)
        .match_requests(|r| {
            r.principal_arn() == Some(PRINCIPAL)
                && r.kubernetes_groups() == ["efs-fargate-workflow"]
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
            no_fargate_profile(),
        ],
        ec2: network_rules(),
        efs: vec![no_file_systems()],
        sts: vec![caller_identity()],
        iam: pod_role_rules(),
        dynamodb: ledger_rules(vec![]),
        ..Default::default()
    };
    let PrepareOutput::Ready { run } = prepare(&mocks.clients(), &settings(), prepare_event())
        .await
        .unwrap()
        .output
    else {
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
    assert_eq!(run.generation, 1);
    assert_eq!(create_entry.num_calls(), 1);
    assert_eq!(
        associate.num_calls(),
        0,
        "no standing access policy: only the bootstrap grant associates one"
    );
}

#[tokio::test]
async fn config_map_only_clusters_are_refused_with_instructions() {
    let mocks = Mocks {
        eks: vec![
            describe_cluster(ClusterStatus::Active, AuthenticationMode::ConfigMap),
            no_fargate_profile(),
        ],
        ec2: network_rules(),
        efs: vec![no_file_systems()],
        sts: vec![caller_identity()],
        iam: pod_role_rules(),
        dynamodb: ledger_rules(vec![]),
        ..Default::default()
    };
    let err = prepare(&mocks.clients(), &settings(), prepare_event())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ClusterAccessNotGranted");
    assert!(err.to_string().contains("API_AND_CONFIG_MAP"), "{err}");
}
