//! EKS access entries: reused when they grant enough, refused when not, removed by the last namespace.

use crate::fixtures::*;

/// The access entry of [`PRINCIPAL`], tagged with `tags`.
fn entry(tags: &[(String, String)]) -> DescribeAccessEntryOutput {
    DescribeAccessEntryOutput::builder()
        .access_entry(
            AccessEntry::builder()
                .principal_arn(PRINCIPAL)
                .set_tags(Some(tags.iter().cloned().collect()))
                .build(),
        )
        .build()
}

fn existing_entry(tags: Vec<(String, String)>) -> Rule {
    mock!(aws_sdk_eks::Client::describe_access_entry).then_output(move || entry(&tags))
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

/// No Fargate profile on the cluster: no namespace still uses the access entry that way.
fn no_fargate_profiles() -> Rule {
    mock!(aws_sdk_eks::Client::list_fargate_profiles)
        .then_output(|| aws_sdk_eks::operation::list_fargate_profiles::ListFargateProfilesOutput::builder().build())
}

/// `ensure_access` for a principal whose entry exists without our tags, with `policy` associated.
async fn ensure_with_existing_entry(policy: &'static str) -> Result<AccessGrant, efs_fargate_core::WorkflowError> {
    let cluster = cluster(ClusterStatus::Active, AuthenticationMode::Api);
    let mocks = Mocks {
        eks: vec![existing_entry(vec![]), associated_policies(policy)],
        ..Default::default()
    };
    access::ensure_access(
        &mocks.clients().eks,
        &cluster,
        &owner(),
        PRINCIPAL.into(),
        vec![],
        &AccessEntryMode::Manage,
    )
    .await
}

#[tokio::test]
async fn an_existing_entry_with_rights_is_reused_and_one_without_is_refused() {
    assert_eq!(
        ensure_with_existing_entry(ADMIN_POLICY).await.unwrap().status,
        AccessStatus::Existing
    );
    let view_only = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
    let err = ensure_with_existing_entry(view_only).await.unwrap_err();
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
        .then_output(move || entry(&ours));
    let describe_foreign = mock!(aws_sdk_eks::Client::describe_access_entry).then_output(|| {
        DescribeAccessEntryOutput::builder()
            .access_entry(AccessEntry::builder().build())
            .build()
    });
    let delete = mock!(aws_sdk_eks::Client::delete_access_entry)
        .match_requests(|r| r.principal_arn() == Some(PRINCIPAL))
        .then_output(|| aws_sdk_eks::operation::delete_access_entry::DeleteAccessEntryOutput::builder().build());
    let mocks = Mocks {
        eks: vec![
            list,
            describe_ours,
            describe_foreign,
            delete.clone(),
            no_fargate_profiles(),
        ],
        efs: vec![no_file_systems()],
        ..Default::default()
    };
    let event = cleanup_event(CleanupAction::AccessEntry, NAMESPACE);
    let progress = cleanup(&mocks.clients(), &settings(), event).await.unwrap();
    assert_eq!(progress.output.removed, vec![PRINCIPAL.to_string()]);
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
    let describe = existing_entry(ours);
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
    let delete = mock!(aws_sdk_eks::Client::delete_access_entry)
        .then_output(|| aws_sdk_eks::operation::delete_access_entry::DeleteAccessEntryOutput::builder().build());
    let mocks = Mocks {
        eks: vec![list, describe, no_fargate_profiles(), delete.clone()],
        efs: vec![file_systems],
        ..Default::default()
    };
    let event = cleanup_event(CleanupAction::AccessEntry, "team-a");
    let progress = cleanup(&mocks.clients(), &settings(), event).await.unwrap();
    assert!(progress.ready && progress.output.removed.is_empty(), "{progress:?}");
    assert_eq!(
        progress.output.kept,
        [format!("{PRINCIPAL} (still used by namespaces team-b)")]
    );
    assert_eq!(delete.num_calls(), 0);
}
