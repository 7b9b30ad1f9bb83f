//! The emulated access-entry API through a real EKS client: entries, policy associations and tags.

use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use workflow_tests::OrPanic;

use crate::access_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_are_created_described_updated_listed_and_deleted() {
    let moto = workflow_tests::moto().await;
    let gw = gateway_with_demo(&moto).await;

    let create = gw.eks.create_entry("demo", ROLE).kubernetes_groups("efs-provisioner");
    let created = create.tags("owner", "workflow").send().await;
    let created = created.or_panic("create_access_entry").access_entry.expect("an entry");
    assert_eq!(created.cluster_name(), Some("demo"));
    assert_eq!(created.principal_arn(), Some(ROLE));
    assert_eq!(created.r#type(), Some("STANDARD"));
    assert_eq!(
        created.username(),
        Some("arn:aws:sts::123456789012:assumed-role/Builder/{{SessionName}}")
    );
    assert_eq!(created.kubernetes_groups(), ["efs-provisioner"]);
    assert_eq!(created.tags().unwrap()["owner"], "workflow");
    let arn = created.access_entry_arn().unwrap();
    let prefix = "arn:aws:eks:us-east-1:123456789012:access-entry/demo/role/123456789012/Builder/";
    assert!(arn.starts_with(prefix) && arn.len() == prefix.len() + 36, "{arn}");
    assert!(created.created_at().is_some() && created.created_at() == created.modified_at());

    let described = gw.eks.describe_entry("demo", ROLE).send().await;
    let described = described.or_panic("describe_access_entry").access_entry;
    assert_eq!(described.expect("an entry"), created);

    let user = gw.eks.create_entry("demo", USER).send().await;
    let user = user.or_panic("create a user's entry").access_entry.expect("an entry");
    assert_eq!(user.username(), Some(USER), "a user's default username is its ARN");

    let update = gw.eks.update_entry("demo", USER).kubernetes_groups("readers");
    let updated = update.username("alice").send().await;
    let updated = updated.or_panic("update_access_entry").access_entry.expect("an entry");
    assert_eq!(
        (updated.username(), updated.kubernetes_groups()),
        (Some("alice"), &["readers".to_string()][..])
    );
    assert!(updated.modified_at().unwrap().secs() >= updated.created_at().unwrap().secs());
    assert_eq!(updated.access_entry_arn(), user.access_entry_arn());

    let listed = gw.eks.list_entries("demo").send().await.or_panic("list_access_entries");
    assert_eq!(listed.access_entries(), [ROLE, USER]);
    assert_eq!(listed.next_token(), None);

    let deleted = gw.eks.delete_entry("demo", ROLE).send().await;
    deleted.or_panic("delete_access_entry");
    let gone = gw.eks.describe_entry("demo", ROLE).send().await;
    let message = assert_refused(gone, 404, NOT_FOUND);
    assert!(
        message.starts_with("The specified principalArn could not be found."),
        "{message}"
    );
    let listed = gw.eks.list_entries("demo").send().await.or_panic("list again");
    assert_eq!(listed.access_entries(), [USER]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_are_associated_rescoped_filtered_and_dropped_with_their_entry() {
    let moto = workflow_tests::moto().await;
    let gw = gateway_with_demo(&moto).await;
    for principal in [ROLE, USER] {
        let created = gw.eks.create_entry("demo", principal).send().await;
        created.or_panic("create_access_entry");
    }
    let associate = |policy: &'static str, scope: AccessScope| gw.eks.associate("demo", ROLE, policy, scope).send();

    let first = associate(VIEW, namespaces(&["team-a", "team-b"]))
        .await
        .or_panic("associate");
    assert_eq!(
        (first.cluster_name(), first.principal_arn()),
        (Some("demo"), Some(ROLE))
    );
    let policy = first.associated_access_policy().unwrap();
    assert_eq!(policy.policy_arn(), Some(VIEW));
    assert_eq!(policy.access_scope(), Some(&namespaces(&["team-a", "team-b"])));
    // Associating again changes the scope of the one association.
    let again = associate(VIEW, cluster_scope()).await.or_panic("associate again");
    let rescoped = again.associated_access_policy().unwrap();
    assert_eq!(
        rescoped.access_scope().and_then(|s| s.r#type()),
        Some(&AccessScopeType::Cluster)
    );
    assert_eq!(rescoped.associated_at(), policy.associated_at());
    associate(EDIT, namespaces(&["team-a"]))
        .await
        .or_panic("associate edit");

    let listed = gw.eks.list_associated("demo", ROLE).send().await;
    let listed = listed.or_panic("list_associated_access_policies");
    let policies: Vec<_> = listed
        .associated_access_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(policies, [EDIT, VIEW]);
    assert_eq!(listed.principal_arn(), Some(ROLE));

    let holding_view = gw.eks.list_entries("demo").associated_policy_arn(VIEW).send().await;
    let holding_view = holding_view.or_panic("list entries holding the view policy");
    assert_eq!(holding_view.access_entries(), [ROLE]);

    let disassociate = || gw.eks.disassociate("demo", ROLE, EDIT).send();
    disassociate().await.or_panic("disassociate_access_policy");
    assert_refused(disassociate().await, 404, NOT_FOUND);

    // Deleting the entry deletes its associations: a new entry for the principal starts bare.
    gw.eks.delete_entry("demo", ROLE).send().await.or_panic("delete");
    gw.eks.create_entry("demo", ROLE).send().await.or_panic("recreate");
    let bare = gw.eks.list_associated("demo", ROLE).send().await;
    let bare = bare.or_panic("list after recreating");
    assert!(bare.associated_access_policies().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_tags_are_the_gateways_and_cluster_tags_stay_motos() {
    let moto = workflow_tests::moto().await;
    let gw = gateway_with_demo(&moto).await;
    let entry = gw.eks.create_entry("demo", ROLE).tags("a", "1").send().await;
    let entry = entry.or_panic("create").access_entry.unwrap();
    let arn = entry.access_entry_arn().unwrap();

    gw.eks
        .tag_resource()
        .resource_arn(arn)
        .tags("b", "2")
        .tags("c", "3")
        .send()
        .await
        .or_panic("tag");
    gw.eks
        .untag_resource()
        .resource_arn(arn)
        .tag_keys("a")
        .tag_keys("c")
        .send()
        .await
        .or_panic("untag");
    let tags = gw
        .eks
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .or_panic("list tags");
    assert_eq!(
        tags.tags().unwrap().iter().collect::<Vec<_>>(),
        [(&"b".to_string(), &"2".to_string())]
    );
    let described = gw.eks.describe_entry("demo", ROLE).send().await;
    assert_eq!(
        described
            .or_panic("describe")
            .access_entry
            .unwrap()
            .tags()
            .unwrap()
            .len(),
        1
    );

    // A cluster's tags are moto's business, through the gateway as before.
    let cluster_arn = "arn:aws:eks:us-east-1:123456789012:cluster/demo";
    gw.eks
        .tag_resource()
        .resource_arn(cluster_arn)
        .tags("team", "x")
        .send()
        .await
        .or_panic("tag the cluster");
    let direct = aws_sdk_eks::Client::new(&moto.sdk_config());
    let in_moto = direct
        .list_tags_for_resource()
        .resource_arn(cluster_arn)
        .send()
        .await
        .or_panic("moto's tags");
    assert_eq!(in_moto.tags().unwrap()["team"], "x");

    let unknown = format!("{}-gone", arn);
    let missing = gw.eks.list_tags_for_resource().resource_arn(unknown).send().await;
    assert_refused(missing, 404, "NotFoundException");
}
