//! The Kubernetes half of a plan (`storage-class`'s `plan` action): it reads each object the run
//! would make and decides it as the steps will, changing nothing; on a cluster the workflow
//! cannot read yet, the objects stay `ensure` with that reason.

use efs_fargate_core::ownership::{MANAGED_BY_KEY, MANAGED_BY_VALUE};
use efs_fargate_core::resources::collector as insights;
use efs_fargate_core::resources::storage_objects::{CSI_DRIVER, STORAGE_CLASS};
use efs_fargate_core::resources::workload::manifests::APP;
use efs_fargate_core::steps::k8s::validate::ValidateAction;
use efs_fargate_core::steps::plan::kubernetes::{self, KubernetesPlanEvent, PlanAction};
use efs_fargate_core::steps::plan::{Action, Kind, Plan};
use efs_fargate_core::steps::prepare::PrepareOutput;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use workflow_tests::{CLUSTER, World};

const KUBERNETES: [Kind; 8] = [
    Kind::Namespace,
    Kind::NamespaceAccess,
    Kind::CsiDriver,
    Kind::StorageClass,
    Kind::LoggingConfig,
    Kind::PersistentVolume,
    Kind::PersistentVolumeClaim,
    Kind::Pod,
];

/// The whole plan of `input` (a dry run), proving that reading the cluster changed nothing in it.
async fn plan(world: &World, input: Value) -> Plan {
    let output = world.try_prepare(input).await.expect("a plan");
    let PrepareOutput::Planned { plan, .. } = output else {
        panic!("not a plan: {output:?}")
    };
    let before = cluster_objects(world);
    let event = KubernetesPlanEvent {
        action: PlanAction::Plan,
        plan: *plan,
    };
    let poll = kubernetes::handle(&world.clients, &world.settings, event)
        .await
        .expect("the Kubernetes plan");
    assert!(poll.ready);
    assert_eq!(cluster_objects(world), before, "a plan changes nothing on the cluster");
    poll.output
}

fn cluster_objects(world: &World) -> Vec<Option<Value>> {
    let fake = world.fake();
    [
        ("Namespace", None, "team-k8s-plan"),
        ("StorageClass", None, STORAGE_CLASS),
        ("CSIDriver", None, CSI_DRIVER),
        ("PersistentVolumeClaim", Some("team-k8s-plan"), APP.claim),
    ]
    .into_iter()
    .map(|(kind, namespace, name)| fake.object(kind, namespace, name))
    .collect()
}

fn actions(plan: &Plan) -> Vec<(Kind, String, Action)> {
    plan.resources
        .iter()
        .filter(|r| KUBERNETES.contains(&r.kind))
        .map(|r| (r.kind, r.name.clone(), r.action))
        .collect()
}

#[tokio::test]
async fn a_plan_reads_the_cluster_before_and_after_a_run() {
    let world = World::with_kube().await;
    let input = json!({"clusterName": CLUSTER, "namespace": "team-k8s-plan", "dryRun": true});

    let first = plan(&world, input.clone()).await;
    let created = actions(&first);
    assert_eq!(created.len(), 12, "{created:#?}");
    assert!(created.iter().all(|(.., a)| *a == Action::Create), "{created:#?}");

    // With the app running, all but the validation's objects are the run's.
    let (run, fs) = world
        .app_running_for(json!({"clusterName": CLUSTER, "namespace": "team-k8s-plan"}))
        .await;
    let is_validation = |name: &str| name.contains("validation");
    for (kind, name, action) in actions(&plan(&world, input.clone()).await) {
        let expected = if is_validation(&name) {
            Action::Create
        } else {
            Action::Reuse
        };
        assert_eq!(action, expected, "{kind:?} {name}");
    }

    // The persistence check deletes the app's objects and makes the validation's: a re-run
    // creates the app's again and reuses the rest.
    for action in [ValidateAction::CrossRead, ValidateAction::Persistence] {
        world.validated(&run, &fs, action).await;
    }
    let app = |kind: Kind| matches!(kind, Kind::PersistentVolume | Kind::PersistentVolumeClaim | Kind::Pod);
    for (kind, name, action) in actions(&plan(&world, input).await) {
        let expected = if app(kind) && !is_validation(&name) {
            Action::Create
        } else {
            Action::Reuse
        };
        assert_eq!(action, expected, "{kind:?} {name}");
    }
}

#[tokio::test]
async fn a_plan_refuses_or_adopts_a_foreign_namespace_and_uses_a_foreign_class() {
    let world = World::with_kube().await;
    let kube = world.kube().await;
    let post = PostParams::default();
    let foreign = |name: &str| ObjectMeta {
        name: Some(name.into()),
        labels: Some([("team".to_string(), "platform".to_string())].into()),
        ..ObjectMeta::default()
    };
    kube.all::<Namespace>()
        .create(
            &post,
            &Namespace {
                metadata: foreign("team-k8s-plan"),
                ..Namespace::default()
            },
        )
        .await
        .unwrap();
    kube.all::<StorageClass>()
        .create(
            &post,
            &StorageClass {
                metadata: foreign(STORAGE_CLASS),
                provisioner: CSI_DRIVER.into(),
                ..StorageClass::default()
            },
        )
        .await
        .unwrap();
    let input = json!({"clusterName": CLUSTER, "namespace": "team-k8s-plan", "dryRun": true});

    let refused = plan(&world, input.clone()).await;
    let namespace = refused.of_kind(Kind::Namespace).next().unwrap();
    assert_eq!(namespace.action, Action::Refuse);
    assert!(
        namespace.reason.as_deref().unwrap().starts_with("NamespaceConflict: "),
        "{namespace:?}"
    );
    let class = refused.of_kind(Kind::StorageClass).next().unwrap();
    assert_eq!(class.action, Action::Reuse);
    assert!(
        class.reason.as_deref().unwrap().contains("not the workflow's"),
        "{class:?}"
    );

    // Adopting takes the workflow's label, as the step and the admission policy require.
    let mut adopting = input;
    adopting["adopt"] = json!(["namespace"]);
    let unlabelled = plan(&world, adopting.clone()).await;
    let namespace = unlabelled.of_kind(Kind::Namespace).next().unwrap();
    assert_eq!(namespace.action, Action::Refuse);
    assert!(
        namespace
            .reason
            .as_deref()
            .unwrap()
            .starts_with("NamespaceNotAdmitted: "),
        "{namespace:?}"
    );
    let label = Patch::Merge(json!({"metadata": {"labels": {MANAGED_BY_KEY: MANAGED_BY_VALUE}}}));
    kube.all::<Namespace>()
        .patch("team-k8s-plan", &PatchParams::default(), &label)
        .await
        .unwrap();
    let adopted = plan(&world, adopting).await;
    assert_eq!(adopted.of_kind(Kind::Namespace).next().unwrap().action, Action::Adopt);
    // The workflow's RoleBinding in it is still to be made.
    let access = adopted.of_kind(Kind::NamespaceAccess).next().unwrap();
    assert_eq!(access.action, Action::Create, "{access:?}");
    assert_eq!(access.name, "team-k8s-plan/efs-fargate-workflow");
}

#[tokio::test]
async fn a_cluster_the_workflow_cannot_read_keeps_ensure_with_the_reason() {
    let world = World::with_kube_config(|config| fake_kube_apiserver::Config {
        authorized_access_keys: Some(vec!["someone-else".into()]),
        ..config
    })
    .await;
    let plan = plan(&world, json!({"clusterName": CLUSTER, "dryRun": true})).await;
    for item in plan.resources.iter().filter(|r| KUBERNETES.contains(&r.kind)) {
        assert_eq!(item.action, Action::Ensure, "{item:?}");
        assert!(item.reason.as_deref().unwrap().starts_with("not read: "), "{item:?}");
    }
}

#[tokio::test]
async fn a_plan_with_container_insights_lists_the_collector_and_its_role_as_a_run_then_makes_them() {
    let world = World::with_kube().await;
    let namespace = "team-ci-plan";
    let run_input = json!({"clusterName": CLUSTER, "namespace": namespace, "deployPocApp": false,
                           "monitoring": {"containerInsights": true}});
    let mut dry = run_input.clone();
    dry["dryRun"] = json!(true);
    let before = world.inventory().await;
    let planned = plan(&world, dry.clone()).await;
    assert_eq!(world.inventory().await, before, "a plan creates no role");
    let role = planned.of_kind(Kind::CollectorRole).next().expect("the role");
    let collector = planned.of_kind(Kind::Collector).next().expect("the collector");
    assert_eq!((role.action, collector.action), (Action::Create, Action::Create));

    let run = world.prepared(run_input).await;
    world.ensure_namespace(&run).await.expect("namespace");
    let (_, efs) = world.provision(&run).await;
    world.storage_created(&run, &efs.file_system_id).await;
    let [made] = &world.inventory().await.roles[..] else {
        panic!("one role")
    };
    assert_eq!(made.name, role.name, "the plan named the role the run made");
    assert_eq!(
        collector.name,
        format!("{}/{}", insights::NAMESPACE, insights::COLLECTOR)
    );
    assert_eq!(collector.settings["reports"], json!([namespace]));

    let again = plan(&world, dry).await;
    let role = again.of_kind(Kind::CollectorRole).next().unwrap();
    assert_eq!(
        (role.action, role.id.as_deref()),
        (Action::Reuse, Some(made.arn.as_str()))
    );
    assert_eq!(again.of_kind(Kind::Collector).next().unwrap().action, Action::Reuse);
}
