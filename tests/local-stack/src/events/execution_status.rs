//! The "Step Functions Execution Status Change" event Step Functions sends EventBridge when an
//! execution's status changes, in the shape AWS documents (a sample:
//! `events/eventbridge/provision-timed-out.json`): the `detail` is what DescribeExecution says,
//! with the dates in epoch milliseconds.

use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::primitives::DateTime;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::{event_time, uuid};

/// The event for `execution`, made on the bus of `account` in `region`. `noticed` stands in for the
/// stop date when DescribeExecution has none (moto gives none for a timed-out execution).
pub fn event(execution: &DescribeExecutionOutput, noticed: Timestamp, account: &str, region: &str) -> Value {
    let stopped = execution
        .stop_date()
        .and_then(|date| Timestamp::from_millisecond(millis(date)).ok())
        .unwrap_or(noticed);
    let included = |data: Option<&str>| data.map(|_| json!({"included": true}));
    json!({
        "version": "0",
        "id": uuid(),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": account,
        "time": event_time(stopped),
        "region": region,
        "resources": [execution.execution_arn()],
        "detail": {
            "executionArn": execution.execution_arn(),
            "stateMachineArn": execution.state_machine_arn(),
            "name": execution.name(),
            "status": execution.status().as_str(),
            "startDate": millis(execution.start_date()),
            "stopDate": stopped.as_millisecond(),
            "input": execution.input(),
            "inputDetails": included(execution.input()),
            "output": execution.output(),
            "outputDetails": included(execution.output()),
            "error": execution.error(),
            "cause": execution.cause(),
        },
    })
}

fn millis(date: &DateTime) -> i64 {
    date.to_millis().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sfn::types::ExecutionStatus;

    const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:efs-workflow-provision:run-1";
    const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:efs-workflow-provision";

    fn described(
        status: ExecutionStatus,
    ) -> aws_sdk_sfn::operation::describe_execution::builders::DescribeExecutionOutputBuilder {
        DescribeExecutionOutput::builder()
            .execution_arn(EXECUTION)
            .state_machine_arn(MACHINE)
            .name("run-1")
            .status(status)
            .start_date(DateTime::from_millis(1_764_064_800_123))
            .input(r#"{"clusterName":"demo"}"#)
    }

    #[test]
    fn a_stopped_execution_has_the_documented_fields() {
        let execution = described(ExecutionStatus::Aborted)
            .stop_date(DateTime::from_millis(1_764_064_801_456))
            .build()
            .unwrap();
        let event = event_of(&execution);
        let sample = workflow_tests::server::repo_root().join("events/eventbridge/provision-timed-out.json");
        let sample: Value = serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
        let keys = |value: &Value| value.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&event), keys(&sample));
        assert_eq!(event["detail-type"], sample["detail-type"]);
        assert_eq!(event["source"], "aws.states");
        assert_eq!(event["time"], "2025-11-25T10:00:01Z");
        assert_eq!(event["resources"], json!([EXECUTION]));
        assert_eq!(
            event["detail"],
            json!({
                "executionArn": EXECUTION,
                "stateMachineArn": MACHINE,
                "name": "run-1",
                "status": "ABORTED",
                "startDate": 1_764_064_800_123_i64,
                "stopDate": 1_764_064_801_456_i64,
                "input": "{\"clusterName\":\"demo\"}",
                "inputDetails": {"included": true},
                "output": null,
                "outputDetails": null,
                "error": null,
                "cause": null,
            })
        );
    }

    #[test]
    fn output_error_and_a_missing_stop_date() {
        let succeeded = described(ExecutionStatus::Succeeded).output("{}").build().unwrap();
        let noticed = Timestamp::from_millisecond(1_764_064_802_000).unwrap();
        let event = event(&succeeded, noticed, "123456789012", "us-east-1");
        assert_eq!(event["detail"]["output"], "{}");
        assert_eq!(event["detail"]["outputDetails"], json!({"included": true}));
        assert_eq!(event["detail"]["stopDate"], 1_764_064_802_000_i64);

        let failed = described(ExecutionStatus::Failed)
            .error("States.Runtime")
            .cause("boom")
            .build()
            .unwrap();
        let detail = &event_of(&failed)["detail"];
        assert_eq!(
            (&detail["error"], &detail["cause"]),
            (&json!("States.Runtime"), &json!("boom"))
        );
    }

    fn event_of(execution: &DescribeExecutionOutput) -> Value {
        event(execution, Timestamp::UNIX_EPOCH, "123456789012", "us-east-1")
    }
}
