//! The list calls of the emulated access-entry API page with `maxResults`/`nextToken`, as the SDK's
//! paginators expect.

use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use workflow_tests::OrPanic;

use crate::access_support::*;

fn cluster_scope() -> AccessScope {
    AccessScope::builder().r#type(AccessScopeType::Cluster).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_call_paginates() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    create_cluster(&gw.eks, "demo", with_access_entries()).await;
    let principals: Vec<String> = (1..=5)
        .map(|n| format!("arn:aws:iam::123456789012:role/r{n}"))
        .collect();
    for principal in &principals {
        gw.eks
            .create_access_entry()
            .cluster_name("demo")
            .principal_arn(principal)
            .send()
            .await
            .or_panic("create");
    }

    let first = gw
        .eks
        .list_access_entries()
        .cluster_name("demo")
        .max_results(2)
        .send()
        .await
        .or_panic("page 1");
    assert_eq!(first.access_entries(), &principals[..2]);
    assert!(first.next_token().is_some());
    let pages: Vec<usize> = gw
        .eks
        .list_access_entries()
        .cluster_name("demo")
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .or_panic("paginate access entries")
        .iter()
        .map(|page| page.access_entries().len())
        .collect();
    assert_eq!(pages, [2, 2, 1]);

    let policies: Vec<String> = gw
        .eks
        .list_access_policies()
        .max_results(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .or_panic("paginate access policies")
        .iter()
        .map(|p| format!("{} {}", p.name().unwrap(), p.arn().unwrap()))
        .collect();
    for name in [
        "AmazonEKSClusterAdminPolicy",
        "AmazonEKSAdminPolicy",
        "AmazonEKSEditPolicy",
        "AmazonEKSViewPolicy",
    ] {
        let listed = format!("{name} arn:aws:eks::aws:cluster-access-policy/{name}");
        assert!(policies.contains(&listed), "{listed} in {policies:?}");
    }

    for policy in [VIEW, EDIT, CLUSTER_ADMIN] {
        gw.eks
            .associate_access_policy()
            .cluster_name("demo")
            .principal_arn(&principals[0])
            .policy_arn(policy)
            .access_scope(cluster_scope())
            .send()
            .await
            .or_panic("associate");
    }
    let associated: Vec<usize> = gw
        .eks
        .list_associated_access_policies()
        .cluster_name("demo")
        .principal_arn(&principals[0])
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .or_panic("paginate associated policies")
        .iter()
        .map(|page| page.associated_access_policies().len())
        .collect();
    assert_eq!(associated, [2, 1]);

    let too_many = gw
        .eks
        .list_access_entries()
        .cluster_name("demo")
        .max_results(101)
        .send()
        .await;
    assert_refused(too_many, 400, "InvalidParameterException");
}
