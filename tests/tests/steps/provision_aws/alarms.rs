//! The file system's CloudWatch alarms on moto (which stores alarms and their tags as CloudWatch
//! does, though it evaluates nothing): the ones each option implies, converged on a re-run, and
//! removed by cleanup without touching another namespace's or anyone else's.

use efs_fargate_core::ownership::{Owner, RUN_ID_KEY};
use efs_fargate_core::run::Run;
use efs_fargate_core::steps::cleanup::{CleanupAction, cleanup};
use efs_fargate_core::steps::efs;
use serde_json::json;
use workflow_tests::{AlarmInfo, CLUSTER, Inventory, OrPanic, World, cleanup_event};

const GIB: f64 = (1u64 << 30) as f64;

/// The alarm of this kind (`io-limit`, `storage`, ...) on the file system, if any.
fn alarm<'a>(inventory: &'a Inventory, file_system_id: &str, kind: &str) -> Option<&'a AlarmInfo> {
    inventory
        .alarms_on(file_system_id)
        .into_iter()
        .find(|a| a.name.ends_with(&format!("{file_system_id}-{kind}")))
}

fn kinds(inventory: &Inventory, file_system_id: &str) -> Vec<String> {
    inventory
        .alarms_on(file_system_id)
        .iter()
        .map(|a| a.name.rsplit(&format!("{file_system_id}-")).next().unwrap().to_string())
        .collect()
}

async fn provisioned(world: &World, input: serde_json::Value) -> (Run, String) {
    let run = world.prepared(input).await;
    let (_, storage) = world.provision(&run).await;
    (run, storage.file_system_id)
}

/// Someone else's alarm: its own name, no tags of ours.
async fn foreign_alarm(world: &World, name: &str, file_system_id: &str) {
    world
        .clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/EFS")
        .metric_name("PercentIOLimit")
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("FileSystemId")
                .value(file_system_id)
                .build(),
        )
        .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(50.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .or_panic("cloudwatch put_metric_alarm");
}

#[tokio::test]
async fn general_purpose_elastic_gets_io_limit_connections_and_storage_alarms_with_our_tags() {
    let mut world = World::new().await;
    world.settings.alarms.topic_arn = Some("arn:aws:sns:us-east-1:123456789012:ops".into());
    let (run, fs) = provisioned(&world, json!({"clusterName": CLUSTER})).await;
    let inventory = world.inventory().await;
    assert_eq!(kinds(&inventory, &fs), ["io-limit", "no-clients", "storage"]);

    let io = alarm(&inventory, &fs, "io-limit").unwrap();
    assert!(
        io.name
            .starts_with(&Owner::new(CLUSTER, &run.request.namespace).alarm_prefix())
    );
    assert_eq!(
        (io.metric_name.as_str(), io.statistic.as_str(), io.comparison.as_str()),
        ("PercentIOLimit", "Maximum", "GreaterThanOrEqualToThreshold")
    );
    assert_eq!((io.threshold, io.period, io.evaluation_periods), (95.0, 60, 15));
    assert_eq!(io.dimensions, [("FileSystemId".to_string(), fs.clone())]);
    assert_eq!(io.alarm_actions, ["arn:aws:sns:us-east-1:123456789012:ops"]);
    assert!(Owner::new(CLUSTER, &run.request.namespace).owns(io.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    assert_eq!(io.tags.get(RUN_ID_KEY), Some(&run.run_id));

    let idle = alarm(&inventory, &fs, "no-clients").unwrap();
    assert_eq!(
        (idle.metric_name.as_str(), idle.comparison.as_str(), idle.threshold),
        ("ClientConnections", "LessThanThreshold", 1.0)
    );
    assert_eq!((idle.period, idle.evaluation_periods), (300, 3));
    assert_eq!(idle.treat_missing_data, "breaching", "no datapoint means no client");

    let storage = alarm(&inventory, &fs, "storage").unwrap();
    assert_eq!(storage.metric_name, "StorageBytes");
    assert_eq!(storage.threshold, 100.0 * GIB);
    assert_eq!(
        storage.dimensions,
        [
            ("FileSystemId".to_string(), fs.clone()),
            ("StorageClass".to_string(), "Total".to_string())
        ]
    );
}

#[tokio::test]
async fn bursting_max_io_gets_a_burst_credit_alarm_and_no_io_limit_alarm() {
    let world = World::new().await;
    let (_, fs) = provisioned(
        &world,
        json!({"clusterName": CLUSTER, "fileSystem": {"throughputMode": "bursting", "performanceMode": "maxIO"}}),
    )
    .await;
    let inventory = world.inventory().await;
    assert_eq!(kinds(&inventory, &fs), ["burst-credits", "no-clients", "storage"]);
    let credits = alarm(&inventory, &fs, "burst-credits").unwrap();
    assert_eq!(
        (
            credits.metric_name.as_str(),
            credits.statistic.as_str(),
            credits.comparison.as_str()
        ),
        ("BurstCreditBalance", "Minimum", "LessThanThreshold")
    );
    assert_eq!(credits.threshold, 100.0 * GIB);
}

#[tokio::test]
async fn a_rerun_converges_the_alarms_without_duplicates() {
    let mut world = World::new().await;
    let (run, fs) = provisioned(&world, json!({"clusterName": CLUSTER})).await;
    let first = world.inventory().await;
    world.provision(&run).await;
    assert_eq!(world.inventory().await, first, "an unchanged re-run sends nothing new");

    // New thresholds replace the alarms in place; a turned-off alarm goes.
    world.settings.alarms.io_limit_percent = 80;
    world.settings.alarms.idle_minutes = 0;
    let poll = efs::converge(&world.clients, &world.settings, &run, 0).await.unwrap();
    assert!(poll.ready);
    assert_eq!(poll.output.alarms.len(), 2, "{:?}", poll.output.alarms);
    let after = world.inventory().await;
    assert_eq!(kinds(&after, &fs), ["io-limit", "storage"]);
    assert_eq!(alarm(&after, &fs, "io-limit").unwrap().threshold, 80.0);
    assert_eq!(after.alarms.len(), 2, "no duplicates: {:?}", after.alarms);
}

#[tokio::test]
async fn the_efs_step_never_changes_or_deletes_an_alarm_it_did_not_create() {
    let mut world = World::new().await;
    let (run, fs) = provisioned(&world, json!({"clusterName": CLUSTER})).await;
    let prefix = run.owner().alarm_prefix();
    // Someone else's alarm under the exact name of our io-limit alarm, and one under our prefix.
    let io_limit = format!("{prefix}{fs}-io-limit");
    world
        .clients
        .cloudwatch
        .delete_alarms()
        .alarm_names(&io_limit)
        .send()
        .await
        .or_panic("cloudwatch delete_alarms");
    foreign_alarm(&world, &io_limit, &fs).await;
    // moto keeps a deleted alarm's tags for the next alarm of that name; CloudWatch does not.
    let cloudwatch = &world.clients.cloudwatch;
    let arn = cloudwatch
        .describe_alarms()
        .alarm_names(&io_limit)
        .send()
        .await
        .or_panic("cloudwatch describe_alarms")
        .metric_alarms()[0]
        .alarm_arn()
        .unwrap_or_default()
        .to_string();
    let keys: Vec<String> = cloudwatch
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .or_panic("cloudwatch list_tags_for_resource")
        .tags()
        .iter()
        .filter_map(|t| t.key().map(str::to_string))
        .collect();
    cloudwatch
        .untag_resource()
        .resource_arn(&arn)
        .set_tag_keys(Some(keys))
        .send()
        .await
        .or_panic("cloudwatch untag_resource");
    let lookalike = format!("{prefix}{fs}-custom");
    foreign_alarm(&world, &lookalike, &fs).await;
    let foreign = |inventory: &workflow_tests::Inventory| -> Vec<AlarmInfo> {
        inventory
            .alarms
            .iter()
            .filter(|a| a.name == io_limit || a.name == lookalike)
            .cloned()
            .collect()
    };
    let before = foreign(&world.inventory().await);
    assert_eq!(before.len(), 2);

    // A re-run whose options turn another alarm off: ours converge, theirs stay as they were.
    world.settings.alarms.idle_minutes = 0;
    let poll = efs::converge(&world.clients, &world.settings, &run, 0).await.unwrap();
    assert!(poll.ready);
    assert!(!poll.output.alarms.contains(&io_limit), "{:?}", poll.output.alarms);
    let after = world.inventory().await;
    assert_eq!(foreign(&after), before, "unchanged");
    assert!(
        alarm(&after, &fs, "no-clients").is_none(),
        "ours that the options turned off went"
    );
}

#[tokio::test]
async fn cleanup_removes_our_alarms_only() {
    let world = World::new().await;
    let (run, fs) = provisioned(&world, json!({"clusterName": CLUSTER})).await;
    let (_, other_fs) = provisioned(&world, json!({"clusterName": CLUSTER, "namespace": "team-b"})).await;
    foreign_alarm(&world, "ops-efs-io", &fs).await;
    // Under our namespace's prefix, but not created by the workflow.
    let lookalike = format!("{}{fs}-custom", run.owner().alarm_prefix());
    foreign_alarm(&world, &lookalike, &fs).await;
    let before = world.inventory().await;
    let team_b: Vec<AlarmInfo> = before.alarms_on(&other_fs).into_iter().cloned().collect();
    assert_eq!(team_b.len(), 3);

    let progress = cleanup(
        &world.clients,
        &world.settings,
        cleanup_event(CleanupAction::Alarms, CLUSTER, &run.request.namespace),
    )
    .await
    .unwrap();
    assert!(progress.ready);
    assert_eq!(progress.output.removed.len(), 3, "{progress:?}");
    assert!(
        progress
            .output
            .kept
            .iter()
            .any(|k| k.contains(&lookalike) && k.contains("not recorded as created by this deployment")),
        "{progress:?}"
    );
    let after = world.inventory().await;
    let names: Vec<&str> = after.alarms_on(&fs).iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, [lookalike.as_str(), "ops-efs-io"]);
    assert_eq!(
        after.alarms_on(&other_fs).into_iter().cloned().collect::<Vec<_>>(),
        team_b,
        "another namespace's alarms stay"
    );

    // Idempotent: nothing more to remove.
    let again = cleanup(
        &world.clients,
        &world.settings,
        cleanup_event(CleanupAction::Alarms, CLUSTER, &run.request.namespace),
    )
    .await
    .unwrap();
    assert!(again.ready && again.output.removed.is_empty(), "{again:?}");
}

#[tokio::test]
async fn a_rollback_removes_only_the_alarms_its_run_created_and_retain_still_removes_them() {
    let world = World::new().await;
    let (run, fs) = provisioned(
        &world,
        json!({"clusterName": CLUSTER, "fileSystem": {"retention": "retain"}}),
    )
    .await;
    let rollback = |run_id: &str| {
        let mut event = cleanup_event(CleanupAction::Alarms, CLUSTER, &run.request.namespace);
        event.run_id = Some(run_id.into());
        event
    };
    let other_run = cleanup(&world.clients, &world.settings, rollback("run-2"))
        .await
        .unwrap();
    assert!(other_run.output.removed.is_empty(), "{other_run:?}");
    assert_eq!(other_run.output.kept.len(), 3, "{other_run:?}");
    assert_eq!(world.inventory().await.alarms_on(&fs).len(), 3);

    // The file system is retained, its alarms are not (README, "Monitoring").
    let own_run = cleanup(&world.clients, &world.settings, rollback(&run.run_id))
        .await
        .unwrap();
    assert_eq!(own_run.output.removed.len(), 3, "{own_run:?}");
    assert!(world.inventory().await.alarms.is_empty());
}
