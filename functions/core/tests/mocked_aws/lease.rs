//! Leases whose holder execution is still running keep their holder: no takeover write happens.

use crate::fixtures::*;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::types::ExecutionStatus;
use efs_fargate_core::lease::{self, Acquire, Claim, Held, LeaseKey};
use std::time::Duration;

const TABLE: &str = "leases";
const HOLDER: &str = "arn:aws:states:us-east-1:123456789012:execution:efs-workflow-provision:first";
const CLAIMANT: &str = "arn:aws:states:us-east-1:123456789012:execution:efs-workflow-provision:second";
const EXPIRES: i64 = 1_900_000_000;

fn describe_execution(status: ExecutionStatus) -> Rule {
    mock!(aws_sdk_sfn::Client::describe_execution)
        .match_requests(|r| r.execution_arn() == Some(HOLDER))
        .then_output(move || {
            DescribeExecutionOutput::builder()
                .execution_arn(HOLDER)
                .state_machine_arn("arn:aws:states:us-east-1:123456789012:stateMachine:efs-workflow-provision")
                .status(status.clone())
                .start_date(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .unwrap()
        })
}

fn claim() -> Claim<'static> {
    Claim {
        holder: CLAIMANT,
        purpose: "provision",
        duration: Duration::from_secs(3600),
    }
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(EXPIRES - 60).unwrap()
}

#[tokio::test]
async fn a_running_or_redriving_holder_is_not_taken_over() {
    for status in [ExecutionStatus::Running, ExecutionStatus::PendingRedrive] {
        let describe = describe_execution(status.clone());
        // No DynamoDB rule: any write would fail the call.
        let mocks = Mocks {
            sfn: vec![describe.clone()],
            ..Default::default()
        };
        let clients = mocks.clients();
        let current = Held {
            holder: HOLDER.into(),
            expires_at: jiff::Timestamp::from_second(EXPIRES).unwrap(),
        };
        let key = LeaseKey::namespace(CLUSTER, NAMESPACE);
        let outcome = lease::take_over(&clients.dynamodb, &clients.sfn, TABLE, &key, &current, &claim(), now())
            .await
            .unwrap();
        assert_eq!(outcome, Acquire::Held(current), "{status:?}");
        assert_eq!(describe.num_calls(), 1, "{status:?}");
    }
}

#[tokio::test]
async fn acquire_or_take_over_reports_a_running_holder() {
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|r| {
            r.condition_expression()
                .is_some_and(|c| c.starts_with("attribute_not_exists"))
        })
        .then_error(|| {
            PutItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder()
                    .message("The conditional request failed")
                    .item("pk", AttributeValue::S(format!("namespace#{CLUSTER}#{NAMESPACE}")))
                    .item("holder", AttributeValue::S(HOLDER.into()))
                    .item("expiresAt", AttributeValue::N(EXPIRES.to_string()))
                    .build(),
            )
        });
    let describe = describe_execution(ExecutionStatus::Running);
    let mocks = Mocks {
        dynamodb: vec![put.clone()],
        sfn: vec![describe.clone()],
        ..Default::default()
    };
    let clients = mocks.clients();
    let key = LeaseKey::namespace(CLUSTER, NAMESPACE);
    let outcome = lease::acquire_or_take_over(&clients.dynamodb, &clients.sfn, TABLE, &key, &claim(), now())
        .await
        .unwrap();
    let err = outcome.or_run_in_progress(&key).unwrap_err();
    assert_eq!(err.error_type(), "RunInProgress");
    assert!(err.to_string().contains(HOLDER), "{err}");
    assert_eq!((put.num_calls(), describe.num_calls()), (1, 1));
}
