//! EKS access entries: an entry the ledger does not record is used only when it grants enough,
//! and the recorded entry goes with the cluster's last namespace.

use crate::fixtures::*;
use efs_fargate_core::ledger::ClusterView;
use efs_fargate_core::resources::access_entry::{self, AccessDecision};

/// The access entry of [`PRINCIPAL`], tagged with `tags`.
fn entry(tags: &[(String, String)]) -> DescribeAccessEntryOutput {
    DescribeAccessEntryOutput::builder()
        .access_entry(
            AccessEntry::builder()
                .principal_arn(PRINCIPAL)
                .access_entry_arn(ENTRY_ARN)
                .set_tags(Some(tags.iter().cloned().collect()))
                .build(),
        )
        .build()
}

const ENTRY_ARN: &str = "arn:aws:eks:us-east-1:123456789012:access-entry/demo/role/123456789012/efs-workflow/1";

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

/// The decision for a principal whose entry exists with our tags copied onto it but no record in
/// the ledger, with `policy` associated.
async fn decide_with_unrecorded_entry(policy: &'static str) -> Result<AccessDecision, efs_fargate_core::WorkflowError> {
    let cluster = cluster(ClusterStatus::Active, AuthenticationMode::Api);
    let copied_tags = owner().tags("x", "run-1", "local");
    let mocks = Mocks {
        eks: vec![existing_entry(copied_tags), associated_policies(policy)],
        ..Default::default()
    };
    let found = access_entry::find(&mocks.clients().eks, &ClusterView::default(), CLUSTER, PRINCIPAL).await?;
    access_entry::decide(&cluster, &found, PRINCIPAL, &AccessEntryMode::Manage)
}

#[tokio::test]
async fn an_unrecorded_entry_with_rights_is_used_unchanged_and_one_without_is_refused() {
    assert_eq!(
        decide_with_unrecorded_entry(ADMIN_POLICY).await.unwrap(),
        AccessDecision::Existing
    );
    let view_only = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
    let err = decide_with_unrecorded_entry(view_only).await.unwrap_err();
    assert_eq!(err.error_type(), "ClusterAccessNotGranted");
}

#[tokio::test]
async fn cleanup_removes_the_recorded_entry_once_no_namespace_needs_it() {
    let delete = mock!(aws_sdk_eks::Client::delete_access_entry)
        .match_requests(|r| r.principal_arn() == Some(PRINCIPAL))
        .then_output(|| aws_sdk_eks::operation::delete_access_entry::DeleteAccessEntryOutput::builder().build());
    let mocks = Mocks {
        eks: vec![existing_entry(vec![]), delete.clone()],
        dynamodb: ledger_rules(vec![record(None, Kind::AccessEntry, PRINCIPAL, ENTRY_ARN)]),
        ..Default::default()
    };
    let event = cleanup_event(CleanupAction::AccessEntry, NAMESPACE);
    let progress = cleanup(&mocks.clients(), &settings(), event).await.unwrap();
    assert_eq!(progress.output.removed, vec![PRINCIPAL.to_string()]);
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test]
async fn the_shared_access_entry_stays_while_another_namespace_has_objects_recorded() {
    let delete = mock!(aws_sdk_eks::Client::delete_access_entry)
        .then_output(|| aws_sdk_eks::operation::delete_access_entry::DeleteAccessEntryOutput::builder().build());
    let mocks = Mocks {
        eks: vec![existing_entry(vec![]), delete.clone()],
        dynamodb: ledger_rules(vec![
            record(None, Kind::AccessEntry, PRINCIPAL, ENTRY_ARN),
            record(Some("team-b"), Kind::Namespace, "team-b", "uid-b"),
        ]),
        ..Default::default()
    };
    let event = cleanup_event(CleanupAction::AccessEntry, "team-a");
    let progress = cleanup(&mocks.clients(), &settings(), event).await.unwrap();
    assert!(progress.ready && progress.output.removed.is_empty(), "{progress:?}");
    assert_eq!(
        progress.output.kept,
        [format!(
            "the workflow's access to cluster {CLUSTER} (still used by namespaces team-b)"
        )]
    );
    assert_eq!(delete.num_calls(), 0);
}

#[tokio::test]
async fn an_entry_someone_made_after_ours_was_gone_is_never_deleted() {
    let delete = mock!(aws_sdk_eks::Client::delete_access_entry)
        .then_output(|| aws_sdk_eks::operation::delete_access_entry::DeleteAccessEntryOutput::builder().build());
    let mocks = Mocks {
        eks: vec![existing_entry(vec![]), delete.clone()],
        dynamodb: ledger_rules(vec![record(
            None,
            Kind::AccessEntry,
            PRINCIPAL,
            "arn:aws:eks:us-east-1:123456789012:access-entry/demo/role/123456789012/efs-workflow/0",
        )]),
        ..Default::default()
    };
    let event = cleanup_event(CleanupAction::AccessEntry, NAMESPACE);
    let progress = cleanup(&mocks.clients(), &settings(), event).await.unwrap();
    assert!(progress.ready && progress.output.removed.is_empty(), "{progress:?}");
    assert_eq!(delete.num_calls(), 0);
}
