//! The plan (`dryRun: true`): on an empty account it lists every AWS resource a real run then
//! creates, with the same names; on a provisioned namespace it lists them all as reused, with the
//! ids they have; neither plan creates anything, takes no lease and tags nothing.

use efs_fargate_core::steps::plan::{Action, Kind, Plan};
use efs_fargate_core::steps::prepare::PrepareOutput;
use serde_json::{Value, json};
use workflow_tests::{CLUSTER, Inventory, LEASE_TABLE, OrPanic, World};

const NAMESPACE: &str = "team-plan";
const ALIAS: &str = "alias/team-plan";

fn input(dry_run: bool) -> Value {
    json!({
        "clusterName": CLUSTER,
        "namespace": NAMESPACE,
        "encryption": {"kmsKeyAlias": ALIAS},
        "dryRun": dry_run,
    })
}

async fn leases(world: &World) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    world
        .clients
        .dynamodb
        .scan()
        .table_name(LEASE_TABLE)
        .send()
        .await
        .or_panic("dynamodb scan")
        .items
        .unwrap_or_default()
}

/// The plan, proving on the way that making it changed nothing.
async fn plan(world: &World) -> Plan {
    let before = world.inventory().await;
    let leases_before = leases(world).await;
    let output = world.try_prepare(input(true)).await.expect("a plan");
    let PrepareOutput::Planned { doctor, plan } = output else {
        panic!("not a plan: {output:?}")
    };
    assert!(doctor.healthy, "{doctor:#?}");
    assert_eq!(plan.would_fail_with, None);
    assert_eq!(world.inventory().await, before, "a plan creates and tags nothing");
    assert_eq!(
        leases(world).await,
        leases_before,
        "a plan takes, extends or releases no lease"
    );
    *plan
}

/// `(kind, name)` of the planned AWS resources (the Kubernetes objects are planned from the input).
fn aws_resources(plan: &Plan) -> Vec<(Kind, String, Action)> {
    let aws = [
        Kind::FargateProfile,
        Kind::KmsKey,
        Kind::FileSystem,
        Kind::SecurityGroup,
        Kind::MountTarget,
    ];
    let mut items: Vec<_> = plan
        .resources
        .iter()
        .filter(|r| aws.contains(&r.kind))
        .map(|r| (r.kind, r.name.clone(), r.action))
        .collect();
    items.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    items
}

/// `(kind, name)` of what the workflow holds in `inventory` for [`NAMESPACE`], with its id.
fn ours(inventory: &Inventory) -> Vec<(Kind, String, String)> {
    let owned = |tags: &std::collections::BTreeMap<String, String>| {
        tags.get("efs-fargate-workflow/namespace").map(String::as_str) == Some(NAMESPACE)
    };
    let mut items = Vec::new();
    for profile in inventory.fargate_profiles.iter().filter(|p| owned(&p.tags)) {
        items.push((Kind::FargateProfile, profile.name.clone(), String::new()));
    }
    for alias in &inventory.kms_aliases {
        items.push((Kind::KmsKey, alias.name.clone(), String::new()));
    }
    for fs in inventory.file_systems.iter().filter(|f| owned(&f.tags)) {
        items.push((Kind::FileSystem, fs.creation_token.clone(), fs.id.clone()));
        for mt in &fs.mount_targets {
            items.push((Kind::MountTarget, mt.subnet_id.clone(), mt.id.clone()));
        }
    }
    for group in inventory.security_groups.iter().filter(|g| owned(&g.tags)) {
        items.push((Kind::SecurityGroup, group.name.clone(), group.id.clone()));
    }
    items.sort();
    items
}

#[tokio::test]
async fn a_plan_lists_what_the_run_creates_and_then_everything_as_reused() {
    let mut world = World::new().await.with_lease_table().await;
    let first = plan(&world).await;
    let planned = aws_resources(&first);
    assert!(
        planned.iter().all(|(_, _, action)| *action == Action::Create),
        "{planned:#?}"
    );
    assert_eq!(
        planned.iter().filter(|(kind, ..)| *kind == Kind::MountTarget).count(),
        3,
        "one mount target per zone"
    );
    let profile = first.of_kind(Kind::FargateProfile).next().unwrap();
    assert_eq!(profile.settings["selectors"], json!([{"namespace": NAMESPACE}]));
    let fs = first.of_kind(Kind::FileSystem).next().unwrap();
    assert_eq!(fs.settings["options"]["throughputMode"], "elastic");
    assert_eq!(fs.settings["kmsKey"], ALIAS);
    assert!(first.of_kind(Kind::Namespace).all(|n| n.action == Action::Ensure));
    assert_eq!(
        first.of_kind(Kind::Pod).count(),
        3,
        "two app pods and the validation pod"
    );

    // The real run creates exactly what was planned, under the planned names.
    // (World runs the steps without an execution, so without the leases a run takes.)
    let lease_table = world.settings.lease_table_name.take();
    let run = world.prepared(input(false)).await;
    world.provision(&run).await;
    world.settings.lease_table_name = lease_table;
    let created = ours(&world.inventory().await);
    let names = |items: &[(Kind, String, String)]| -> Vec<(Kind, String)> {
        items.iter().map(|(k, n, _)| (*k, n.clone())).collect()
    };
    assert_eq!(
        names(&created),
        planned.iter().map(|(k, n, _)| (*k, n.clone())).collect::<Vec<_>>(),
        "the plan named every resource the run created, and nothing else"
    );

    // Planned again: everything is reused, by the ids it has.
    let second = plan(&world).await;
    let reused = aws_resources(&second);
    assert!(
        reused.iter().all(|(_, _, action)| *action == Action::Reuse),
        "{reused:#?}"
    );
    assert_eq!(
        names(&created),
        reused.iter().map(|(k, n, _)| (*k, n.clone())).collect::<Vec<_>>()
    );
    for (kind, name, id) in created.iter().filter(|(_, _, id)| !id.is_empty()) {
        let item = second
            .resources
            .iter()
            .find(|r| r.kind == *kind && &r.name == name)
            .unwrap();
        assert_eq!(item.id.as_deref(), Some(id.as_str()), "{item:?}");
    }
}

#[tokio::test]
async fn a_plan_shows_what_the_run_would_refuse() {
    let world = World::new().await;
    world
        .foreign_profile(workflow_tests::POD_ROLE, world.network().private_subnet_ids())
        .await;
    let before = world.inventory().await;
    let output = world
        .try_prepare(json!({"clusterName": CLUSTER, "dryRun": true}))
        .await
        .expect("a plan, not an error");
    let PrepareOutput::Planned { doctor, plan } = output else {
        panic!("not a plan: {output:?}")
    };
    assert!(!doctor.healthy);
    assert_eq!(plan.would_fail_with.as_deref(), Some("FargateProfileConflict"));
    let profile = plan.of_kind(Kind::FargateProfile).next().unwrap();
    assert_eq!(profile.action, Action::Refuse);
    assert!(
        profile.reason.as_deref().unwrap_or_default().contains("adopt"),
        "{profile:?}"
    );
    assert_eq!(world.inventory().await, before);

    let adopted = world
        .try_prepare(json!({"clusterName": CLUSTER, "dryRun": true, "adopt": ["fargateProfile"]}))
        .await
        .expect("a plan");
    let PrepareOutput::Planned { plan, .. } = adopted else {
        panic!("not a plan")
    };
    assert_eq!(plan.of_kind(Kind::FargateProfile).next().unwrap().action, Action::Adopt);
}
