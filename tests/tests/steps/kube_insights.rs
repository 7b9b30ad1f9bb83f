//! Container Insights (`monitoring.containerInsights`): one collector per cluster, in its own
//! namespace on its own Fargate profile, with its own IAM role on moto, reporting the namespaces
//! provisioned with the option; made by the `fargate-profile` and `storage-class` steps, converged
//! on a re-run; a run that leaves the option off stops reporting its namespace; removed with the
//! cluster's last namespace (never by a rollback of a later run); refused, before anything is
//! created, without an OIDC provider or with someone else's role under the collector's name.

use aws_sdk_eks::types::FargateProfileSelector;
use efs_fargate_core::ownership::RUN_ID_KEY;
use efs_fargate_core::resources::collector::objects::ROLE_ANNOTATION;
use efs_fargate_core::resources::collector::profile::PROFILE;
use efs_fargate_core::resources::collector::role::{self, PATH};
use efs_fargate_core::resources::collector::{COLLECTOR, NAMESPACE, SERVICE_ACCOUNT};
use efs_fargate_core::resources::rbac::COLLECTOR_READER;
use efs_fargate_core::run::Run;
use efs_fargate_core::settings::DEFAULT_DEPLOYMENT;
use efs_fargate_core::steps::cleanup::{CleanupAction, cleanup};
use efs_fargate_core::steps::fargate;
use efs_fargate_core::steps::plan::{Action, Kind};
use efs_fargate_core::steps::prepare::PrepareOutput;
use efs_fargate_core::steps::storage_class::StorageOutput;
use serde_json::{Value, json};
use workflow_tests::{CLUSTER, INSIGHTS_BOUNDARY, OrPanic, REGION, World, cleanup_event, error_name};

fn input(namespace: &str, insights: bool) -> Value {
    json!({"clusterName": CLUSTER, "namespace": namespace, "monitoring": {"containerInsights": insights}})
}

/// prepare, the namespace, the profiles and EFS, then the `storage-class` step; with the file
/// system's id.
async fn provisioned(world: &World, input: Value) -> (Run, String, StorageOutput) {
    let run = world.prepared(input).await;
    world.ensure_namespace(&run).await.expect("namespace");
    let (_, efs) = world.provision(&run).await;
    let storage = world.storage_created(&run, &efs.file_system_id).await;
    (run, efs.file_system_id, storage)
}

/// The cluster's collector on the fake cluster, in a fixed order.
fn collector_objects(world: &World) -> [Option<Value>; 5] {
    let fake = world.fake();
    [
        fake.object("Namespace", None, NAMESPACE),
        fake.object("ServiceAccount", Some(NAMESPACE), SERVICE_ACCOUNT),
        fake.object("ConfigMap", Some(NAMESPACE), COLLECTOR),
        fake.object("Deployment", Some(NAMESPACE), COLLECTOR),
        fake.object("ClusterRoleBinding", None, COLLECTOR),
    ]
}

/// What a re-run must not change in the objects: identity, labels, annotations and contents.
fn contents(objects: [Option<Value>; 5]) -> Vec<Value> {
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

/// The namespaces the collector's configuration keeps, and its replicas.
fn reporting(world: &World) -> (String, Value) {
    let [_, _, config, deployment, _] = collector_objects(world).map(|o| o.expect("the collector"));
    let collector: Value =
        serde_json::from_str(config["data"]["collector.yaml"].as_str().expect("the configuration")).unwrap();
    let keep = &collector["receivers"]["prometheus"]["config"]["scrape_configs"][0]["metric_relabel_configs"][0];
    assert_eq!(keep["source_labels"], json!(["namespace"]));
    assert_eq!(keep["action"], "keep");
    (
        keep["regex"].as_str().unwrap_or_default().to_string(),
        deployment["spec"]["replicas"].clone(),
    )
}

fn cluster_role_name() -> String {
    role::role_name(DEFAULT_DEPLOYMENT, REGION, CLUSTER)
}

#[tokio::test]
async fn the_clusters_collector_runs_in_its_own_namespace_as_its_own_role() {
    let world = World::with_kube().await;
    let (run, file_system_id, storage) = provisioned(&world, input("team-ci", true)).await;
    let owner = run.owner();
    let output = storage.container_insights.expect("the collector's output");
    assert_eq!(output.namespaces, vec!["team-ci".to_string()]);
    assert_eq!(output.deployment, format!("{NAMESPACE}/{COLLECTOR}"));

    // The role: the cluster's, under our path and the boundary, trusted by the collector's
    // service account in the collector's namespace only.
    let inventory = world.inventory().await;
    let [role] = &inventory.roles[..] else {
        panic!("one role: {:?}", inventory.roles)
    };
    assert_eq!(role.name, cluster_role_name());
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
            .any(|v| v == &json!(format!("system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"))),
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
    // Its own Fargate profile, selecting only its namespace.
    let profiles: Vec<_> = inventory.fargate_profiles.iter().map(|p| p.name.as_str()).collect();
    assert!(profiles.contains(&PROFILE), "{profiles:?}");

    // The Kubernetes objects: the service account names the role; the Deployment runs the pinned
    // image as non-root with that service account; the binding grants only the reader role, to
    // that account; the tenant's namespace holds none of it.
    let [namespace, account, _, deployment, binding] = collector_objects(&world).map(|o| o.expect("created"));
    assert_eq!(namespace["metadata"]["labels"][RUN_ID_KEY], json!(run.run_id));
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
    assert_eq!(reporting(&world), ("team-ci".to_string(), json!(1)));
    assert_eq!(binding["roleRef"]["name"], COLLECTOR_READER);
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": NAMESPACE}])
    );
    assert!(
        world
            .fake()
            .object("ServiceAccount", Some("team-ci"), SERVICE_ACCOUNT)
            .is_none()
    );
    assert!(world.fake().object("Deployment", Some("team-ci"), COLLECTOR).is_none());

    // A re-run converges: nothing new, nothing changed.
    let before = (world.inventory().await, contents(collector_objects(&world)));
    let again = world.storage_created(&run, &file_system_id).await;
    assert_eq!(again.container_insights.map(|o| o.role_arn), Some(output.role_arn));
    assert_eq!((world.inventory().await, contents(collector_objects(&world))), before);
}

#[tokio::test]
async fn a_run_that_leaves_the_option_off_stops_reporting_its_namespace() {
    let world = World::with_kube().await;
    let (_, file_system_id, _) = provisioned(&world, input("team-ci-off", true)).await;
    assert_eq!(world.inventory().await.roles.len(), 1);

    // The plan removes no role: the collector is the cluster's.
    let mut dry = input("team-ci-off", false);
    dry["dryRun"] = json!(true);
    let PrepareOutput::Planned { plan, .. } = world.try_prepare(dry).await.expect("a plan") else {
        panic!("a plan")
    };
    assert!(plan.of_kind(Kind::CollectorRole).next().is_none(), "{plan:?}");

    let plain = world.prepared(input("team-ci-off", false)).await;
    let storage = world.storage_created(&plain, &file_system_id).await;
    assert_eq!(storage.container_insights, None);
    assert_eq!(
        reporting(&world),
        (String::new(), json!(0)),
        "nothing to report: no pod"
    );
    // The cluster's collector and role stay for the namespace's and others' next runs; nothing
    // else of the run went with the option.
    assert_eq!(world.inventory().await.roles.len(), 1);
    assert!(world.fake().object("Namespace", None, "team-ci-off").is_some());
    assert!(world.inventory().await.file_system(&file_system_id).is_some());
}

#[tokio::test]
async fn the_last_namespace_takes_the_collector_with_it_and_a_rollback_of_a_later_run_nothing() {
    let world = World::with_kube().await;
    let (first, file_system_id, _) = provisioned(&world, input("team-ci-clean", true)).await;

    // A later run of the namespace that fails and rolls back: the collector is the first run's,
    // and the namespace stays with the first run's objects.
    let mut later = world.prepared(input("team-ci-clean", true)).await;
    later.run_id = "run-later".into();
    world.storage_created(&later, &file_system_id).await;
    let collector = collector_objects(&world);
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
    assert_eq!(contents(collector_objects(&world)), contents(collector));
    let rolled_back = world.roll_back("team-ci-clean", Some("run-later")).await;
    for (action, step) in &rolled_back {
        assert!(
            !step
                .output
                .removed
                .iter()
                .any(|r| r.contains(&cluster_role_name()) || r.contains(PROFILE)),
            "{action:?}: {:?}",
            step.output.removed
        );
    }
    assert_eq!(world.inventory().await.roles.len(), 1);
    assert_eq!(reporting(&world), ("team-ci-clean".to_string(), json!(1)));

    world.clean_up_kubernetes("team-ci-clean").await;
    assert_eq!(collector_objects(&world), [None, None, None, None, None]);
    let log = world.clean_up("team-ci-clean").await;
    let removed = |wanted: CleanupAction| {
        log.iter()
            .rev()
            .find(|(action, _)| *action == wanted)
            .map(|(_, step)| step.output.removed.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        removed(CleanupAction::InsightsRole),
        vec![format!("IAM role {}", cluster_role_name())]
    );
    assert!(removed(CleanupAction::FargateProfile).contains(&PROFILE.to_string()));
    let inventory = world.inventory().await;
    assert_eq!(inventory.roles, vec![]);
    assert!(
        inventory.fargate_profiles.is_empty(),
        "{:?}",
        inventory.fargate_profiles
    );
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
    let name = cluster_role_name();
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
async fn one_collector_reports_every_namespace_that_asks_and_stays_until_the_last_leaves() {
    let world = World::with_kube().await;
    let (a, file_system_id, _) = provisioned(&world, input("team-ci-a", true)).await;
    let (b, _, _) = provisioned(&world, input("team-ci-b", true)).await;
    world.end_run(&a).await;
    world.end_run(&b).await;
    assert_eq!(reporting(&world), ("team-ci-a|team-ci-b".to_string(), json!(1)));
    let role = || async {
        let inventory = world.inventory().await;
        (
            inventory.roles.len(),
            inventory.fargate_profiles.iter().any(|p| p.name == PROFILE),
        )
    };
    assert_eq!(role().await, (1, true), "one role and one profile for the cluster");

    // team-ci-a leaves the option off, then is cleaned up: the collector reports team-ci-b only.
    let plain = world.prepared(input("team-ci-a", false)).await;
    world.storage_created(&plain, &file_system_id).await;
    world.end_run(&plain).await;
    assert_eq!(reporting(&world), ("team-ci-b".to_string(), json!(1)));
    world.clean_up_kubernetes("team-ci-a").await;
    world.clean_up("team-ci-a").await;
    assert_eq!(reporting(&world), ("team-ci-b".to_string(), json!(1)));
    assert_eq!(role().await, (1, true));

    // The last namespace takes it with it.
    world.clean_up_kubernetes("team-ci-b").await;
    world.clean_up("team-ci-b").await;
    assert_eq!(collector_objects(&world), [None, None, None, None, None]);
    assert_eq!(role().await, (0, false));
}

#[tokio::test]
async fn runs_of_two_namespaces_at_once_both_end_up_reported() {
    let world = World::with_kube().await;
    let (_, file_system_id, _) = provisioned(&world, input("team-ci-x", true)).await;
    let (other, other_fs, _) = provisioned(&world, input("team-ci-y", false)).await;
    let both = world.prepared(input("team-ci-x", true)).await;
    let mut turned_on = other.clone();
    turned_on.request.monitoring.container_insights = true;
    let (x, y) = tokio::join!(
        world.storage_created(&both, &file_system_id),
        world.storage_created(&turned_on, &other_fs)
    );
    assert!(x.container_insights.is_some() && y.container_insights.is_some());
    assert_eq!(reporting(&world), ("team-ci-x|team-ci-y".to_string(), json!(1)));
}

#[tokio::test]
async fn someone_elses_profile_under_the_collectors_name_is_a_conflict_and_survives_cleanup() {
    let world = World::with_kube().await;
    world
        .clients
        .eks
        .create_fargate_profile()
        .cluster_name(CLUSTER)
        .fargate_profile_name(PROFILE)
        .pod_execution_role_arn(workflow_tests::POD_ROLE)
        .selectors(FargateProfileSelector::builder().namespace(NAMESPACE).build())
        .send()
        .await
        .or_panic("eks create_fargate_profile");
    let run = world.prepared(input("team-ci-lookalike", true)).await;
    world.ensure_namespace(&run).await.expect("namespace");
    // The namespace's own profile first (created, then ACTIVE on moto), then the collector's.
    let mut attempt = 0;
    let refused = loop {
        match fargate::profile(&world.clients, &world.settings, &run, None, attempt).await {
            Ok(poll) if !poll.ready && poll.attempt < 5 => attempt = poll.attempt,
            other => break other,
        }
    };
    let (name, err) = error_name(refused);
    assert_eq!(name, "FargateProfileConflict", "{err}");
    assert!(err.to_string().contains(PROFILE), "{err}");

    world.clean_up("team-ci-lookalike").await;
    let profiles = world.inventory().await.fargate_profiles;
    assert!(
        profiles.iter().any(|p| p.name == PROFILE),
        "someone else's profile is never deleted: {profiles:?}"
    );
}
