//! The list calls of the emulated access-entry API page with `maxResults`/`nextToken`, as the SDK's
//! paginators expect.

use workflow_tests::OrPanic;

use crate::access_support::*;

/// Every page a paginator's stream yields (or every item, after `.items()`), each call succeeding.
macro_rules! all {
    ($stream:expr, $what:literal) => {
        $stream.collect::<Result<Vec<_>, _>>().await.or_panic($what)
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_call_paginates() {
    let moto = workflow_tests::moto().await;
    let gw = gateway_with_demo(&moto).await;
    let principals: Vec<String> = (1..=5)
        .map(|n| format!("arn:aws:iam::123456789012:role/r{n}"))
        .collect();
    for principal in &principals {
        gw.eks.create_entry("demo", principal).send().await.or_panic("create");
    }

    let first = gw.eks.list_entries("demo").max_results(2).send().await;
    let first = first.or_panic("page 1");
    assert_eq!(first.access_entries(), &principals[..2]);
    assert!(first.next_token().is_some());
    let entries = gw.eks.list_entries("demo").max_results(2).into_paginator();
    let pages: Vec<usize> = all!(entries.send(), "paginate access entries")
        .iter()
        .map(|page| page.access_entries().len())
        .collect();
    assert_eq!(pages, [2, 2, 1]);

    let all_policies = gw.eks.list_access_policies().max_results(2).into_paginator();
    let policies: Vec<String> = all!(all_policies.items().send(), "paginate access policies")
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
        let associate = gw.eks.associate("demo", &principals[0], policy, cluster_scope());
        associate.send().await.or_panic("associate");
    }
    let associations = gw.eks.list_associated("demo", &principals[0]).max_results(2);
    let associated: Vec<usize> = all!(associations.into_paginator().send(), "paginate associated policies")
        .iter()
        .map(|page| page.associated_access_policies().len())
        .collect();
    assert_eq!(associated, [2, 1]);

    let too_many = gw.eks.list_entries("demo").max_results(101).send().await;
    assert_refused(too_many, 400, INVALID_PARAMETER);
}
