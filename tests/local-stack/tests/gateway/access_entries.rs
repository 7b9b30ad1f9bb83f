//! The emulated access-entry API through a real EKS client: entries, policy associations and tags.

use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use workflow_tests::OrPanic;

use crate::access_support::*;

fn namespaces(names: &[&str]) -> AccessScope {
    AccessScope::builder()
        .r#type(AccessScopeType::Namespace)
        .set_namespaces(Some(names.iter().map(|n| n.to_string()).collect()))
        .build()
}

fn cluster_scope() -> AccessScope {
    AccessScope::builder().r#type(AccessScopeType::Cluster).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_are_created_described_updated_listed_and_deleted() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    create_cluster(&gw.eks, "demo", with_access_entries()).await;

    let created = gw
        .eks
        .create_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .kubernetes_groups("efs-provisioner")
        .tags("owner", "workflow")
        .send()
        .await
        .or_panic("create_access_entry")
        .access_entry
        .expect("an entry");
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

    let described = gw
        .eks
        .describe_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .send()
        .await
        .or_panic("describe_access_entry")
        .access_entry
        .expect("an entry");
    assert_eq!(described, created);

    let user = gw
        .eks
        .create_access_entry()
        .cluster_name("demo")
        .principal_arn(USER)
        .send()
        .await
        .or_panic("create a user's entry")
        .access_entry
        .expect("an entry");
    assert_eq!(user.username(), Some(USER), "a user's default username is its ARN");

    let updated = gw
        .eks
        .update_access_entry()
        .cluster_name("demo")
        .principal_arn(USER)
        .kubernetes_groups("readers")
        .username("alice")
        .send()
        .await
        .or_panic("update_access_entry")
        .access_entry
        .expect("an entry");
    assert_eq!(
        (updated.username(), updated.kubernetes_groups()),
        (Some("alice"), &["readers".to_string()][..])
    );
    assert!(updated.modified_at().unwrap().secs() >= updated.created_at().unwrap().secs());
    assert_eq!(updated.access_entry_arn(), user.access_entry_arn());

    let listed = gw
        .eks
        .list_access_entries()
        .cluster_name("demo")
        .send()
        .await
        .or_panic("list_access_entries");
    assert_eq!(listed.access_entries(), [ROLE, USER]);
    assert_eq!(listed.next_token(), None);

    gw.eks
        .delete_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .send()
        .await
        .or_panic("delete_access_entry");
    let gone = gw
        .eks
        .describe_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .send()
        .await;
    let message = assert_refused(gone, 404, "ResourceNotFoundException");
    assert!(
        message.starts_with("The specified principalArn could not be found."),
        "{message}"
    );
    let listed = gw
        .eks
        .list_access_entries()
        .cluster_name("demo")
        .send()
        .await
        .or_panic("list again");
    assert_eq!(listed.access_entries(), [USER]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_are_associated_rescoped_filtered_and_dropped_with_their_entry() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    create_cluster(&gw.eks, "demo", with_access_entries()).await;
    for principal in [ROLE, USER] {
        gw.eks
            .create_access_entry()
            .cluster_name("demo")
            .principal_arn(principal)
            .send()
            .await
            .or_panic("create_access_entry");
    }
    let associate = |policy: &'static str, scope: AccessScope| {
        gw.eks
            .associate_access_policy()
            .cluster_name("demo")
            .principal_arn(ROLE)
            .policy_arn(policy)
            .access_scope(scope)
            .send()
    };

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

    let listed = gw
        .eks
        .list_associated_access_policies()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .send()
        .await
        .or_panic("list_associated_access_policies");
    let policies: Vec<_> = listed
        .associated_access_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(policies, [EDIT, VIEW]);
    assert_eq!(listed.principal_arn(), Some(ROLE));

    let holding_view = gw
        .eks
        .list_access_entries()
        .cluster_name("demo")
        .associated_policy_arn(VIEW)
        .send()
        .await
        .or_panic("list entries holding the view policy");
    assert_eq!(holding_view.access_entries(), [ROLE]);

    gw.eks
        .disassociate_access_policy()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .policy_arn(EDIT)
        .send()
        .await
        .or_panic("disassociate_access_policy");
    let twice = gw
        .eks
        .disassociate_access_policy()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .policy_arn(EDIT)
        .send()
        .await;
    assert_refused(twice, 404, "ResourceNotFoundException");

    // Deleting the entry deletes its associations: a new entry for the principal starts bare.
    gw.eks
        .delete_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .send()
        .await
        .or_panic("delete");
    gw.eks
        .create_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .send()
        .await
        .or_panic("recreate");
    let bare = gw
        .eks
        .list_associated_access_policies()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .send()
        .await
        .or_panic("list after recreating");
    assert!(bare.associated_access_policies().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_tags_are_the_gateways_and_cluster_tags_stay_motos() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    create_cluster(&gw.eks, "demo", with_access_entries()).await;
    let entry = gw
        .eks
        .create_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .tags("a", "1")
        .send()
        .await
        .or_panic("create")
        .access_entry
        .unwrap();
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
    let described = gw
        .eks
        .describe_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .send()
        .await;
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
