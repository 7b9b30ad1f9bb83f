//! Every bad input fails with a named error before anything is created.

use efs_fargate_core::settings::Settings;
use efs_fargate_core::steps::prepare::{PrepareEvent, prepare};
use serde_json::{Value, json};
use workflow_tests::{CLUSTER, World, error_name, prepare_event};

struct Case {
    name: &'static str,
    input: Value,
    error: &'static str,
    /// The field the message must name (empty when the error names no field).
    field: &'static str,
}

fn case(name: &'static str, input: Value, error: &'static str, field: &'static str) -> Case {
    Case {
        name,
        input,
        error,
        field,
    }
}

fn console_cases() -> Vec<Case> {
    let long_cluster = "c".repeat(101);
    let long_namespace = "n".repeat(64);
    vec![
        case(
            "missing cluster name",
            json!({"namespace": "a"}),
            "InvalidInput",
            "clusterName",
        ),
        case(
            "empty cluster name",
            json!({"clusterName": ""}),
            "InvalidInput",
            "clusterName",
        ),
        case(
            "cluster name with a dot",
            json!({"clusterName": "demo.prod"}),
            "InvalidInput",
            "clusterName",
        ),
        case(
            "cluster name too long",
            json!({"clusterName": long_cluster}),
            "InvalidInput",
            "clusterName",
        ),
        case(
            "cluster name not a string",
            json!({"clusterName": 42}),
            "InvalidInput",
            "clusterName",
        ),
        case(
            "namespace in upper case",
            json!({"clusterName": CLUSTER, "namespace": "Team-A"}),
            "InvalidInput",
            "namespace",
        ),
        case(
            "namespace too long",
            json!({"clusterName": CLUSTER, "namespace": long_namespace}),
            "InvalidInput",
            "namespace",
        ),
        case(
            "reserved namespace",
            json!({"clusterName": CLUSTER, "namespace": "kube-system"}),
            "InvalidInput",
            "namespace",
        ),
        case(
            "not a role ARN",
            json!({"clusterName": CLUSTER, "podExecutionRoleArn": "AmazonEKSFargatePodExecutionRole"}),
            "InvalidInput",
            "podExecutionRoleArn",
        ),
        case(
            "alias without prefix",
            json!({"clusterName": CLUSTER, "encryption": {"kmsKeyAlias": "efs-poc"}}),
            "InvalidInput",
            "encryption.kmsKeyAlias",
        ),
        case(
            "AWS-managed alias",
            json!({"clusterName": CLUSTER, "encryption": {"kmsKeyAlias": "alias/aws/elasticfilesystem"}}),
            "InvalidInput",
            "encryption.kmsKeyAlias",
        ),
        case(
            "alias with encryption off",
            json!({"clusterName": CLUSTER, "encryption": {"atRest": false, "kmsKeyAlias": "alias/efs-poc"}}),
            "InvalidInput",
            "encryption.kmsKeyAlias",
        ),
        case(
            "in-transit not a boolean",
            json!({"clusterName": CLUSTER, "encryption": {"inTransit": "yes"}}),
            "InvalidInput",
            "encryption.inTransit",
        ),
        case(
            "unknown throughput mode",
            json!({"clusterName": CLUSTER, "fileSystem": {"throughputMode": "turbo"}}),
            "InvalidInput",
            "fileSystem.throughputMode",
        ),
        case(
            "provisioned throughput without MiB/s",
            json!({"clusterName": CLUSTER, "fileSystem": {"throughputMode": "provisioned"}}),
            "InvalidInput",
            "fileSystem.provisionedThroughputMibps",
        ),
        case(
            "provisioned MiB/s out of range",
            json!({"clusterName": CLUSTER, "fileSystem": {"throughputMode": "provisioned", "provisionedThroughputMibps": 0}}),
            "InvalidInput",
            "fileSystem.provisionedThroughputMibps",
        ),
        case(
            "MiB/s without provisioned throughput",
            json!({"clusterName": CLUSTER, "fileSystem": {"provisionedThroughputMibps": 64}}),
            "InvalidInput",
            "fileSystem.provisionedThroughputMibps",
        ),
        case(
            "unknown performance mode",
            json!({"clusterName": CLUSTER, "fileSystem": {"performanceMode": "fast"}}),
            "InvalidInput",
            "fileSystem.performanceMode",
        ),
        case(
            "maxIO with elastic throughput",
            json!({"clusterName": CLUSTER, "fileSystem": {"performanceMode": "maxIO"}}),
            "InvalidInput",
            "fileSystem.performanceMode",
        ),
        case(
            "unknown IA transition",
            json!({"clusterName": CLUSTER, "fileSystem": {"lifecycle": {"transitionToIA": "AFTER_2_DAYS"}}}),
            "InvalidInput",
            "fileSystem.lifecycle.transitionToIA",
        ),
        case(
            "archive before IA",
            json!({"clusterName": CLUSTER, "fileSystem": {"lifecycle": {"transitionToArchive": "AFTER_14_DAYS"}}}),
            "InvalidInput",
            "fileSystem.lifecycle.transitionToArchive",
        ),
        case(
            "unknown primary transition",
            json!({"clusterName": CLUSTER, "fileSystem": {"lifecycle": {"transitionToPrimaryStorageClass": "ALWAYS"}}}),
            "InvalidInput",
            "fileSystem.lifecycle.transitionToPrimaryStorageClass",
        ),
        case(
            "backup not a boolean",
            json!({"clusterName": CLUSTER, "fileSystem": {"backup": "yes"}}),
            "InvalidInput",
            "fileSystem.backup",
        ),
        case(
            "unknown retention",
            json!({"clusterName": CLUSTER, "fileSystem": {"retention": "forever"}}),
            "InvalidInput",
            "fileSystem.retention",
        ),
        case(
            "unknown file-system option",
            json!({"clusterName": CLUSTER, "fileSystem": {"replication": true}}),
            "InvalidInput",
            "fileSystem",
        ),
        case(
            "TTL not ISO 8601",
            json!({"clusterName": CLUSTER, "ttl": "8 hours"}),
            "InvalidInput",
            "ttl",
        ),
        case(
            "TTL too short",
            json!({"clusterName": CLUSTER, "ttl": "PT5M"}),
            "InvalidInput",
            "ttl",
        ),
        case(
            "TTL too long",
            json!({"clusterName": CLUSTER, "ttl": "P400D"}),
            "InvalidInput",
            "ttl",
        ),
        case(
            "TTL in months",
            json!({"clusterName": CLUSTER, "ttl": "P1M"}),
            "InvalidInput",
            "ttl",
        ),
        case(
            "unknown onFailure",
            json!({"clusterName": CLUSTER, "onFailure": "explode"}),
            "InvalidInput",
            "onFailure",
        ),
        case(
            "deployPocApp not a boolean",
            json!({"clusterName": CLUSTER, "deployPocApp": "yes"}),
            "InvalidInput",
            "deployPocApp",
        ),
        case(
            "in-transit encryption off (access-point mounts need TLS)",
            json!({"clusterName": CLUSTER, "encryption": {"inTransit": false}}),
            "InvalidInput",
            "encryption.inTransit",
        ),
        case(
            "posixUser root",
            json!({"clusterName": CLUSTER, "posixUser": {"uid": 0}}),
            "InvalidInput",
            "posixUser.uid",
        ),
        case(
            "posixUser gid out of range",
            json!({"clusterName": CLUSTER, "posixUser": {"gid": -1}}),
            "InvalidInput",
            "posixUser.gid",
        ),
        case(
            "unknown field",
            json!({"clusterName": CLUSTER, "fileSystemId": "fs-1"}),
            "InvalidInput",
            "fileSystemId",
        ),
        case("input not an object", json!(["demo"]), "InvalidInput", "(input)"),
        case(
            "CloudTrail event without a cluster name",
            json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.eks",
                   "detail": {"eventName": "CreateCluster", "requestParameters": {"tags": {"efs-fargate-workflow/provision": "true"}}}}),
            "InvalidInput",
            "detail.requestParameters.name",
        ),
        case(
            "CloudTrail event with a bad namespace tag",
            json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.eks",
                   "detail": {"eventName": "CreateCluster", "requestParameters": {"name": CLUSTER,
                   "tags": {"efs-fargate-workflow/provision": "true", "efs-fargate-workflow/namespace": "Bad_NS"}}}}),
            "InvalidInput",
            "efs-fargate-workflow/namespace",
        ),
        case(
            "cluster that does not exist",
            json!({"clusterName": "no-such-cluster"}),
            "ClusterNotFound",
            "no-such-cluster",
        ),
    ]
}

#[tokio::test]
async fn bad_console_and_event_inputs_fail_by_name_and_create_nothing() {
    let world = World::new().await;
    let before = world.inventory().await;
    let cases = console_cases();
    assert!(cases.len() >= 15);
    for case in cases {
        let (name, err) = error_name(world.try_prepare(case.input).await);
        assert_eq!(name, case.error, "{}: {err}", case.name);
        assert!(
            err.to_string().contains(case.field),
            "{}: the message names {:?}: {err}",
            case.name,
            case.field
        );
        assert_eq!(world.inventory().await, before, "{} created something", case.name);
    }
}

#[tokio::test]
async fn a_bad_run_id_or_a_missing_pod_role_fails_before_anything_is_created() {
    let world = World::new().await;
    let before = world.inventory().await;

    let event = PrepareEvent {
        run_id: "run id with spaces".into(),
        ..prepare_event(json!({"clusterName": CLUSTER}))
    };
    let (name, err) = error_name(world.prepare(event).await);
    assert_eq!(name, "InvalidInput");
    assert!(err.to_string().contains("runId"), "{err}");

    let without_default_role = Settings {
        pod_execution_role_arn: None,
        ..world.settings.clone()
    };
    let event = prepare_event(json!({"clusterName": CLUSTER}));
    let (name, err) = error_name(prepare(&world.clients, &without_default_role, event).await);
    assert_eq!(name, "InvalidInput");
    assert!(err.to_string().contains("podExecutionRoleArn"), "{err}");

    assert_eq!(world.inventory().await, before);
}

#[tokio::test]
async fn a_cluster_created_without_the_opt_in_tag_is_a_no_op() {
    let world = World::new().await;
    let before = world.inventory().await;
    let event = json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.eks",
        "detail": {"eventName": "CreateCluster", "requestParameters": {"name": CLUSTER}}});
    let output = world.try_prepare(event).await.unwrap();
    let value = serde_json::to_value(output).unwrap();
    assert_eq!(value["status"], "skipped");
    assert!(value["reason"].as_str().unwrap().contains("opt-in tag"), "{value}");
    assert_eq!(world.inventory().await, before);
}
