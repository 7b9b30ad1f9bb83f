//! The template's triggers, read from `template.yaml` by the stack: `ClusterCreatedRule` starting
//! the provisioning machine when a cluster is created through the gateway, and the TTL reaper
//! sweeping on its schedule. No test here starts a provisioning run or invokes the reaper itself.

use crate::support::*;
use aws_sdk_eks::types::{AuthenticationMode, CreateAccessConfigRequest, VpcConfigRequest};
use aws_sdk_sfn::types::ExecutionListItem;
use efs_fargate_core::functions::Function;
use efs_fargate_core::input::DEFAULT_NAMESPACE;
use efs_fargate_core::ownership::OPT_IN_TAG_KEY;
use efs_fargate_core::steps::reaper::execution_name;
use local_stack::stack::{CLUSTER, StackOptions};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// EventBridge delivers within seconds; the gateway puts the event on the bus as it answers.
const DELIVERY: Duration = Duration::from_secs(10);

fn no_schedules() -> StackOptions {
    StackOptions {
        schedules: false,
        ..StackOptions::default()
    }
}

/// Creates `name` through the gateway on the seeded network, as `aws eks create-cluster` would.
async fn create_cluster(
    stack: &Stack,
    name: &str,
    tags: &[(&str, &str)],
) -> Result<(), aws_sdk_eks::error::SdkError<aws_sdk_eks::operation::create_cluster::CreateClusterError>> {
    let tags: HashMap<String, String> = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    stack
        .eks()
        .create_cluster()
        .name(name)
        .role_arn(workflow_tests::network::CLUSTER_ROLE_ARN)
        .version(workflow_tests::network::CLUSTER_VERSION)
        .set_tags(Some(tags))
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some(stack.stack.cluster.subnet_ids()))
                .build(),
        )
        .access_config(
            CreateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                .bootstrap_cluster_creator_admin_permissions(false)
                .build(),
        )
        .send()
        .await
        .map(|_| ())
}

/// An execution EventBridge started: named with a fresh UUID, its input the CloudTrail event.
async fn rule_started(stack: &Stack, execution: &ExecutionListItem, cluster: &str) -> Value {
    let name = execution.name();
    assert!(
        name.len() == 36 && name.split('-').map(str::len).eq([8, 4, 4, 4, 12]),
        "a UUID, as EventBridge names executions: {name}"
    );
    let event = stack.input_of(execution.execution_arn()).await;
    assert_eq!(event["source"], "aws.eks", "{event}");
    assert_eq!(event["detail-type"], "AWS API Call via CloudTrail", "{event}");
    assert_eq!(event["detail"]["eventSource"], "eks.amazonaws.com", "{event}");
    assert_eq!(event["detail"]["eventName"], "CreateCluster", "{event}");
    assert_eq!(event["detail"]["awsRegion"], workflow_tests::REGION, "{event}");
    assert_eq!(event["detail"]["requestParameters"]["name"], cluster, "{event}");
    event
}

#[tokio::test]
async fn an_opted_in_cluster_created_through_the_gateway_is_provisioned_by_the_rule() {
    let stack = stack(no_schedules()).await;
    assert_eq!(
        stack.stack.rules,
        ["ClusterCreatedRule", "RollbackFunctionProvisioningEndedUncaught"]
    );
    // The seeded cluster (opted in) was created before the rule was put: it started nothing.
    assert!(
        stack
            .stack
            .executions(&stack.stack.provision_arn)
            .await
            .unwrap()
            .is_empty()
    );

    // The fake Kubernetes API serves the one cluster `demo`: it is created again, with the tags.
    stack
        .eks()
        .delete_cluster()
        .name(CLUSTER)
        .send()
        .await
        .expect("delete the seeded cluster");
    let tags = [(OPT_IN_TAG_KEY, "true"), ("efs-fargate-workflow/namespace", "team-b")];
    create_cluster(&stack, CLUSTER, &tags)
        .await
        .expect("create the cluster");

    let started = stack.executions_when(&stack.stack.provision_arn, 1, DELIVERY).await;
    let event = rule_started(&stack, &started[0], CLUSTER).await;
    assert_eq!(event["detail"]["requestParameters"]["tags"][OPT_IN_TAG_KEY], "true");
    assert_eq!(event["detail"]["responseElements"]["cluster"]["name"], CLUSTER);
    let execution = stack.stack.wait(started[0].execution_arn(), TIMEOUT).await.unwrap();
    succeeded(&execution);
    assert_eq!(execution.output["namespace"], "team-b", "{}", execution.output);
    assert!(
        execution.output["resources"]["fileSystemId"].is_string(),
        "{}",
        execution.output
    );

    stack.cleanup("cleanup-team-b", "team-b").await;
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    stack.shutdown().await;
}

#[tokio::test]
async fn a_cluster_created_without_the_opt_in_tag_starts_a_run_that_changes_nothing() {
    let stack = stack(no_schedules()).await;
    // The rule's pattern does not look at tags: every CreateCluster starts a run, and `prepare`
    // ends it as a no-op, before anything is created.
    create_cluster(&stack, "untagged", &[("team", "a")])
        .await
        .expect("create the cluster");
    let started = stack.executions_when(&stack.stack.provision_arn, 1, DELIVERY).await;
    rule_started(&stack, &started[0], "untagged").await;
    let execution = stack.stack.wait(started[0].execution_arn(), TIMEOUT).await.unwrap();
    succeeded(&execution);
    assert_eq!(execution.output["status"], "skipped", "{}", execution.output);
    let reason = execution.output["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("opt-in"), "{}", execution.output);

    // A refused CreateCluster is in CloudTrail too (with its error code): the rule matches it, and
    // the run skips it.
    let refused = create_cluster(&stack, "untagged", &[(OPT_IN_TAG_KEY, "true")]).await;
    assert!(refused.is_err(), "the name is taken");
    let started = stack.executions_when(&stack.stack.provision_arn, 2, DELIVERY).await;
    let event = rule_started(&stack, &started[1], "untagged").await;
    assert_eq!(event["detail"]["errorCode"], "ResourceInUseException", "{event}");
    let execution = stack.stack.wait(started[1].execution_arn(), TIMEOUT).await.unwrap();
    succeeded(&execution);
    assert_eq!(execution.output["status"], "skipped", "{}", execution.output);
    let reason = execution.output["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("ResourceInUseException"), "{}", execution.output);

    // Other cluster calls are not what the rule listens to.
    let eks = stack.eks();
    eks.describe_cluster().name("untagged").send().await.expect("describe");
    eks.delete_cluster().name("untagged").send().await.expect("delete");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        stack.stack.executions(&stack.stack.provision_arn).await.unwrap().len(),
        2
    );
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    stack.shutdown().await;
}

#[tokio::test]
async fn an_expired_run_is_cleaned_up_by_the_reaper_on_its_schedule() {
    // rate(15 minutes) on a clock 250 times faster: a sweep every 3.6 s.
    let stack = stack_at(0.004, StackOptions::default()).await;
    let reaper = stack
        .stack
        .schedules
        .iter()
        .find(|s| s.definition.function == Function::TtlReaper.name())
        .expect("the reaper's schedule");
    assert_eq!(reaper.definition.expression, "rate(15 minutes)");
    assert_eq!(reaper.period, Duration::from_millis(3_600));

    let execution = stack
        .provision(
            "provision-ttl-scheduled",
            json!({"clusterName": CLUSTER, "ttl": "PT1H", "deployPocApp": false}),
        )
        .await;
    succeeded(&execution);
    assert!(
        stack
            .stack
            .executions(&stack.stack.cleanup_arn)
            .await
            .unwrap()
            .is_empty()
    );

    // The TTL is on the wall clock, which no time scale moves: the run's expiry is moved instead,
    // in the ledger, the one place the reaper reads it (re-stamped as a run's end does).
    let expired = "2020-01-01T00:00:00Z";
    let ledger =
        efs_fargate_core::ledger::Ledger::of(&stack.stack.moto_clients.dynamodb, &workflow_tests::settings()).unwrap();
    assert!(
        ledger
            .end_run(CLUSTER, DEFAULT_NAMESPACE, "provision-ttl-scheduled", Some(expired))
            .await
            .unwrap()
    );

    let cleanups = stack
        .executions_when(&stack.stack.cleanup_arn, 1, Duration::from_secs(15))
        .await;
    assert_eq!(
        cleanups[0].name(),
        execution_name(CLUSTER, DEFAULT_NAMESPACE, expired, 1)
    );
    let cleanup = stack.stack.wait(cleanups[0].execution_arn(), TIMEOUT).await.unwrap();
    succeeded(&cleanup);
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    assert!(stack.stack.gateway_stats().invocations_of(Function::TtlReaper) >= 1);
    stack.shutdown().await;
}
