//! Container Insights (`monitoring.containerInsights`): the collector's IAM role on moto and its
//! Kubernetes objects on the fake API server, made by the `storage-class` step; converged on a
//! re-run, removed by a run that leaves the option off and by cleanup (in a rollback only the
//! run's own); refused, before anything is created, without an OIDC provider or with someone
//! else's role under the collector's name.

use efs_fargate_core::ownership::{Owner, RUN_ID_KEY};
use efs_fargate_core::resources::collector::objects::{ROLE_ANNOTATION, binding_name};
use efs_fargate_core::resources::collector::role::{self, PATH};
use efs_fargate_core::resources::collector::{COLLECTOR, SERVICE_ACCOUNT};
use efs_fargate_core::resources::rbac::COLLECTOR_READER;
use efs_fargate_core::run::Run;
use efs_fargate_core::settings::DEFAULT_DEPLOYMENT;
use efs_fargate_core::steps::cleanup::{CleanupAction, cleanup};
use efs_fargate_core::steps::plan::{Action, Kind};
use efs_fargate_core::steps::prepare::PrepareOutput;
use efs_fargate_core::steps::storage_class::StorageOutput;
use serde_json::{Value, json};
use workflow_tests::{CLUSTER, INSIGHTS_BOUNDARY, OrPanic, REGION, World, cleanup_event, error_name};

fn input(namespace: &str, insights: bool) -> Value {
    json!({"clusterName": CLUSTER, "namespace": namespace, "monitoring": {"containerInsights": insights}})
}

/// prepare, the namespace, the profile and EFS, then the `storage-class` step; with the file
/// system's id.
async fn provisioned(world: &World, input: Value) -> (Run, String, StorageOutput) {
    let run = world.prepared(input).await;
    world.ensure_namespace(&run).await.expect("namespace");
    let (_, efs) = world.provision(&run).await;
    let storage = world.storage_created(&run, &efs.file_system_id).await;
    (run, efs.file_system_id, storage)
}

/// The collector's objects on the fake cluster, in a fixed order.
fn collector_objects(world: &World, namespace: &str) -> [Option<Value>; 4] {
    let fake = world.fake();
    [
        fake.object("ServiceAccount", Some(namespace), SERVICE_ACCOUNT),
        fake.object("ConfigMap", Some(namespace), COLLECTOR),
        fake.object("Deployment", Some(namespace), COLLECTOR),
        fake.object("ClusterRoleBinding", None, &binding_name(namespace)),
    ]
}

/// What a re-run must not change in the objects: identity, labels, annotations and contents.
fn contents(objects: [Option<Value>; 4]) -> Vec<Value> {
    objects
        .into_iter()
        .map(|object| {
            let object = object.unwrap_or_default();
            let metadata = &object["metadata"];
            json!({
                "uid": metadata["uid"], "labels": metadata["labels"], "annotations": metadata["annotations"],
                "spec": object["spec"], "data": object["data"], "roleRef": object["roleRef"], "subjects": object["subjects"],
            })
        })
        .collect()
}

#[tokio::test]
async fn the_collector_runs_as_its_own_role_and_sees_only_its_namespace() {
    let world = World::with_kube().await;
    let (run, file_system_id, storage) = provisioned(&world, input("team-ci", true)).await;
    let owner = run.owner();
    let output = storage.container_insights.expect("the collector's output");

    // The role: under our path and the boundary, trusted by the namespace's service account only.
    let inventory = world.inventory().await;
    let [role] = &inventory.roles[..] else {
        panic!("one role: {:?}", inventory.roles)
    };
    assert_eq!(role.name, role::role_name(DEFAULT_DEPLOYMENT, REGION, &owner));
    assert_eq!(role.arn, output.role_arn);
    assert!(role.arn.contains(&format!(":role{PATH}")), "{}", role.arn);
    assert_eq!(role.permissions_boundary.as_deref(), Some(INSIGHTS_BOUNDARY));
    assert_eq!(role.tags.get(RUN_ID_KEY), Some(&run.run_id));
    assert!(owner.owns(role.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    let statement = &role.trust_policy["Statement"][0];
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    let conditions = statement["Condition"]["StringEquals"].as_object().unwrap();
    assert!(
        conditions
            .values()
            .any(|v| v == &json!(format!("system:serviceaccount:team-ci:{SERVICE_ACCOUNT}"))),
        "{conditions:?}"
    );
    let [(_, permissions)] = &role.inline_policies[..] else {
        panic!("one inline policy: {:?}", role.inline_policies)
    };
    let resources = permissions["Statement"][0]["Resource"].to_string();
    assert!(
        resources.contains(&format!(":log-group:{}", world.settings.insights.log_group)),
        "{resources}"
    );

    // The Kubernetes objects: the service account names the role; the Deployment runs the pinned
    // image as non-root with that service account; the binding grants only the reader role.
    let [account, config, deployment, binding] = collector_objects(&world, "team-ci").map(|o| o.expect("created"));
    assert_eq!(
        account["metadata"]["annotations"][ROLE_ANNOTATION],
        json!(output.role_arn)
    );
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], SERVICE_ACCOUNT);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["containers"][0]["image"],
        json!(world.settings.insights.collector_image)
    );
    assert_eq!(
        pod["containers"][0]["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    assert_eq!(deployment["spec"]["replicas"], 1);
    let collector: Value =
        serde_json::from_str(config["data"]["collector.yaml"].as_str().expect("the configuration")).unwrap();
    let keep = &collector["receivers"]["prometheus"]["config"]["scrape_configs"][0]["metric_relabel_configs"][0];
    assert_eq!(
        keep,
        &json!({"source_labels": ["namespace"], "regex": "team-ci", "action": "keep"})
    );
    assert_eq!(binding["roleRef"]["name"], COLLECTOR_READER);
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": "team-ci"}])
    );

    // A re-run converges: nothing new, nothing changed.
    let before = (world.inventory().await, contents(collector_objects(&world, "team-ci")));
    let again = world.storage_created(&run, &file_system_id).await;
    assert_eq!(again.container_insights.map(|o| o.role_arn), Some(output.role_arn));
    assert_eq!(
        (world.inventory().await, contents(collector_objects(&world, "team-ci"))),
        before
    );
}

#[tokio::test]
async fn a_run_that_leaves_the_option_off_removes_the_collector_an_earlier_run_made() {
    let world = World::with_kube().await;
    let (_, file_system_id, _) = provisioned(&world, input("team-ci-off", true)).await;
    assert_eq!(world.inventory().await.roles.len(), 1);

    // The plan says the run will remove it.
    let mut dry = input("team-ci-off", false);
    dry["dryRun"] = json!(true);
    let PrepareOutput::Planned { plan, .. } = world.try_prepare(dry).await.expect("a plan") else {
        panic!("a plan")
    };
    let planned = plan.of_kind(Kind::CollectorRole).next().expect("the role is planned");
    assert_eq!(planned.action, Action::Remove, "{planned:?}");

    let plain = world.prepared(input("team-ci-off", false)).await;
    let storage = world.storage_created(&plain, &file_system_id).await;
    assert_eq!(storage.container_insights, None);
    assert_eq!(world.inventory().await.roles, vec![]);
    assert_eq!(collector_objects(&world, "team-ci-off"), [None, None, None, None]);
    // Nothing else of the run went with it.
    assert!(world.fake().object("Namespace", None, "team-ci-off").is_some());
    assert!(world.inventory().await.file_system(&file_system_id).is_some());
}

#[tokio::test]
async fn cleanup_removes_the_collector_and_its_role_and_a_rollback_only_its_own_runs() {
    let world = World::with_kube().await;
    let (first, file_system_id, _) = provisioned(&world, input("team-ci-clean", true)).await;

    // A later run of the namespace that fails and rolls back: the collector is the first run's.
    let mut later = world.prepared(input("team-ci-clean", true)).await;
    later.run_id = "run-later".into();
    world.storage_created(&later, &file_system_id).await;
    let collector = collector_objects(&world, "team-ci-clean");
    for object in collector.iter().flatten() {
        assert_eq!(
            object["metadata"]["labels"][RUN_ID_KEY],
            json!(first.run_id),
            "{object}"
        );
    }
    let mut kubernetes = cleanup_event(CleanupAction::Kubernetes, CLUSTER, "team-ci-clean");
    kubernetes.run_id = Some("run-later".into());
    let progress = cleanup(&world.clients, &world.settings, kubernetes)
        .await
        .expect("the rollback's kubernetes action");
    assert!(
        !progress.output.removed.iter().any(|r| r.contains(COLLECTOR)),
        "{:?}",
        progress.output.removed
    );
    assert_eq!(
        contents(collector_objects(&world, "team-ci-clean")),
        contents(collector)
    );
    let rolled_back = world.roll_back("team-ci-clean", Some("run-later")).await;
    let (_, role_step) = rolled_back
        .iter()
        .find(|(action, _)| *action == CleanupAction::InsightsRole)
        .expect("the insights-role action ran");
    assert_eq!(role_step.output.removed, Vec::<String>::new());
    assert!(
        role_step.output.kept[0].contains(&role::role_name(DEFAULT_DEPLOYMENT, REGION, &first.owner())),
        "{:?}",
        role_step.output.kept
    );
    assert_eq!(world.inventory().await.roles.len(), 1);

    world.clean_up_kubernetes("team-ci-clean").await;
    assert_eq!(collector_objects(&world, "team-ci-clean"), [None, None, None, None]);
    let log = world.clean_up("team-ci-clean").await;
    let (_, role_step) = log
        .iter()
        .find(|(action, _)| *action == CleanupAction::InsightsRole)
        .expect("the insights-role action ran");
    assert_eq!(
        role_step.output.removed,
        vec![format!(
            "IAM role {}",
            role::role_name(DEFAULT_DEPLOYMENT, REGION, &first.owner())
        )]
    );
    assert_eq!(world.inventory().await.roles, vec![]);
}

#[tokio::test]
async fn without_an_oidc_provider_the_run_is_refused_before_anything_is_created() {
    let world = World::with_kube().await;
    let providers = world
        .clients
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .or_panic("iam list_open_id_connect_providers");
    for provider in providers.open_id_connect_provider_list() {
        world
            .clients
            .iam
            .delete_open_id_connect_provider()
            .open_id_connect_provider_arn(provider.arn().unwrap_or_default())
            .send()
            .await
            .or_panic("iam delete_open_id_connect_provider");
    }
    let before = world.inventory().await;
    let (name, err) = error_name(world.try_prepare(input("team-ci-oidc", true)).await);
    assert_eq!(name, "OidcProviderMissing");
    assert!(
        err.to_string().contains("eksctl utils associate-iam-oidc-provider"),
        "{err}"
    );
    assert_eq!(world.inventory().await, before);

    // The plan says so, on the role it would have created.
    let mut dry = input("team-ci-oidc", true);
    dry["dryRun"] = json!(true);
    let PrepareOutput::Planned { plan, .. } = world.try_prepare(dry).await.expect("a plan") else {
        panic!("a plan")
    };
    assert_eq!(plan.would_fail_with.as_deref(), Some("OidcProviderMissing"));
    let role = plan.of_kind(Kind::CollectorRole).next().expect("the role is planned");
    assert_eq!(role.action, Action::Refuse);
    assert_eq!(world.inventory().await, before);
}

#[tokio::test]
async fn someone_elses_role_under_the_collectors_name_is_a_conflict_and_is_never_touched() {
    let world = World::with_kube().await;
    let name = role::role_name(DEFAULT_DEPLOYMENT, REGION, &Owner::new(CLUSTER, "team-ci-foreign"));
    world
        .clients
        .iam
        .create_role()
        .role_name(&name)
        .path(PATH)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .or_panic("iam create_role");
    let before = world.inventory().await;
    let (error, err) = error_name(world.try_prepare(input("team-ci-foreign", true)).await);
    assert_eq!(error, "CollectorRoleConflict", "{err}");
    assert_eq!(world.inventory().await, before);

    let log = world.clean_up("team-ci-foreign").await;
    let (_, role_step) = log
        .iter()
        .find(|(action, _)| *action == CleanupAction::InsightsRole)
        .expect("the insights-role action ran");
    assert!(
        role_step.output.kept[0].contains("not recorded as created by this deployment"),
        "{:?}",
        role_step.output.kept
    );
    assert_eq!(world.inventory().await, before);
}

#[tokio::test]
async fn a_deployment_without_the_boundary_refuses_the_option_before_anything_is_created() {
    let mut world = World::new().await;
    world.settings.insights.boundary_arn = None;
    let before = world.inventory().await;
    let (name, err) = error_name(world.try_prepare(input("team-ci-boundary", true)).await);
    assert_eq!(name, "InvalidInput");
    assert!(err.to_string().contains("CONTAINER_INSIGHTS_BOUNDARY_ARN"), "{err}");
    assert_eq!(world.inventory().await, before);
    // Without the option the same deployment runs as before.
    world.prepared(input("team-ci-boundary", false)).await;
}

#[tokio::test]
async fn another_namespaces_collector_survives_this_namespaces_off_run_and_cleanup() {
    let world = World::with_kube().await;
    let (_, file_system_id, _) = provisioned(&world, input("team-ci-a", true)).await;
    let (other, _, _) = provisioned(&world, input("team-ci-b", true)).await;
    let others_role = role::role_name(DEFAULT_DEPLOYMENT, REGION, &other.owner());
    let others = || async {
        let role = world
            .inventory()
            .await
            .roles
            .into_iter()
            .find(|r| r.name == others_role);
        (role, contents(collector_objects(&world, "team-ci-b")))
    };
    let before = others().await;
    assert!(before.0.is_some(), "team-ci-b's role");

    // team-ci-a leaves the option off, then is cleaned up: team-ci-b's collector is untouched.
    let plain = world.prepared(input("team-ci-a", false)).await;
    world.storage_created(&plain, &file_system_id).await;
    assert_eq!(collector_objects(&world, "team-ci-a"), [None, None, None, None]);
    world.clean_up_kubernetes("team-ci-a").await;
    world.clean_up("team-ci-a").await;
    assert_eq!(world.inventory().await.roles.len(), 1, "only team-ci-b's role is left");
    assert_eq!(others().await, before);
}
