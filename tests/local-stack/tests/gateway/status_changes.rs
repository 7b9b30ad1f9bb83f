//! Step Functions' execution status changes on the local event bus, which moto never emits: every
//! execution of a watched state machine that ends, whatever ends it, is announced exactly once,
//! in EventBridge's shape. A rule on the bus records each announcement as an execution of a
//! recorder state machine, with the event as its input.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use local_stack::events::{EventBus, Pattern, Rule, StatusWatch};
use local_stack::template::Target;
use serde_json::{Value, json};
use workflow_tests::{ACCOUNT_ID, REGION};

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/local-stack-states";
const POLL: Duration = Duration::from_millis(100);

/// Ends as its input's `end` says: succeeds, fails, or waits (to be stopped, or to time out).
fn ending_as_asked() -> Value {
    json!({
        "StartAt": "Route",
        "TimeoutSeconds": 2,
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.end", "StringEquals": "fail", "Next": "Fail"},
                    {"Variable": "$.end", "StringEquals": "wait", "Next": "Wait"},
                ],
                "Default": "Done",
            },
            "Fail": {"Type": "Fail", "Error": "Asked", "Cause": "the input said so"},
            "Wait": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
            "Done": {"Type": "Pass", "End": true},
        },
    })
}

async fn create(sfn: &aws_sdk_sfn::Client, name: &str, definition: Value) -> String {
    sfn.create_state_machine()
        .name(name)
        .role_arn(ROLE_ARN)
        .definition(definition.to_string())
        .send()
        .await
        .expect("create the state machine")
        .state_machine_arn()
        .to_string()
}

/// The events recorded so far, by the name of the execution they announce.
async fn recorded(sfn: &aws_sdk_sfn::Client, recorder: &str) -> BTreeMap<String, Vec<Value>> {
    let executions = sfn
        .list_executions()
        .state_machine_arn(recorder)
        .send()
        .await
        .expect("list the recordings");
    let mut events: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for execution in executions.executions() {
        let described = sfn
            .describe_execution()
            .execution_arn(execution.execution_arn())
            .send()
            .await
            .expect("describe a recording");
        let event: Value = serde_json::from_str(described.input().unwrap_or("null")).expect("a JSON event");
        let name = event["detail"]["name"].as_str().unwrap_or_default().to_string();
        events.entry(name).or_default().push(event);
    }
    events
}

#[tokio::test]
async fn every_ended_execution_is_announced_once_in_eventbridges_shape() {
    let moto = workflow_tests::moto().await;
    moto.api(
        "POST",
        "/moto-api/config",
        r#"{"stepfunctions":{"execute_state_machine":true}}"#,
    );
    let sfn = aws_sdk_sfn::Client::new(&moto.sdk_config());
    let watched = create(&sfn, "watched", ending_as_asked()).await;
    let recorder = create(
        &sfn,
        "recorder",
        json!({"StartAt": "Record", "States": {"Record": {"Type": "Pass", "End": true}}}),
    )
    .await;
    let bus = EventBus::new(sfn.clone(), ACCOUNT_ID, REGION);
    bus.put_rule(Rule {
        name: "record".into(),
        pattern: Pattern::new(json!({
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {"stateMachineArn": [watched]},
        }))
        .unwrap(),
        targets: vec![Target::StateMachine(recorder.clone())],
    });
    let _watch = StatusWatch::start(sfn.clone(), vec![watched.clone()], &bus, POLL);

    let mut started = BTreeMap::new();
    for (name, end) in [
        ("succeeds", "succeed"),
        ("fails", "fail"),
        ("stopped", "wait"),
        ("times-out", "wait"),
    ] {
        let execution = sfn
            .start_execution()
            .state_machine_arn(&watched)
            .name(name)
            .input(json!({"end": end}).to_string())
            .send()
            .await
            .expect("start");
        started.insert(name, execution.execution_arn().to_string());
    }
    sfn.stop_execution()
        .execution_arn(&started["stopped"])
        .send()
        .await
        .expect("stop");

    // The time-out comes after 2 s; then a few more polls, which must announce nothing again.
    let began = Instant::now();
    let mut events = recorded(&sfn, &recorder).await;
    while events.len() < started.len() && began.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(POLL).await;
        events = recorded(&sfn, &recorder).await;
    }
    tokio::time::sleep(POLL * 10).await;
    let events = recorded(&sfn, &recorder).await;
    let statuses: BTreeMap<&str, Vec<&str>> = events
        .iter()
        .map(|(name, events)| {
            let statuses = events.iter().map(|e| e["detail"]["status"].as_str().unwrap()).collect();
            (name.as_str(), statuses)
        })
        .collect();
    assert_eq!(
        statuses,
        BTreeMap::from([
            ("fails", vec!["FAILED"]),
            ("stopped", vec!["ABORTED"]),
            ("succeeds", vec!["SUCCEEDED"]),
            ("times-out", vec!["TIMED_OUT"]),
        ])
    );

    let stopped = &events["stopped"][0];
    assert_eq!(stopped["version"], "0");
    assert_eq!(stopped["detail-type"], "Step Functions Execution Status Change");
    assert_eq!(stopped["source"], "aws.states");
    assert_eq!(
        (&stopped["account"], &stopped["region"]),
        (&json!(ACCOUNT_ID), &json!(REGION))
    );
    assert_eq!(stopped["resources"], json!([started["stopped"]]));
    let detail = &stopped["detail"];
    assert_eq!(detail["executionArn"], started["stopped"]);
    assert_eq!(detail["stateMachineArn"], watched);
    assert_eq!(detail["input"], r#"{"end":"wait"}"#);
    assert_eq!(detail["inputDetails"], json!({"included": true}));
    assert_eq!((&detail["output"], &detail["error"]), (&Value::Null, &Value::Null));
    let (start, stop) = (
        detail["startDate"].as_i64().unwrap(),
        detail["stopDate"].as_i64().unwrap(),
    );
    assert!(
        start > 1_700_000_000_000 && start <= stop,
        "epoch milliseconds: {detail}"
    );

    let failed = &events["fails"][0]["detail"];
    assert_eq!(
        (&failed["error"], &failed["cause"]),
        (&json!("Asked"), &json!("the input said so"))
    );
    let succeeded = &events["succeeds"][0]["detail"];
    let output: Value = serde_json::from_str(succeeded["output"].as_str().expect("a JSON string")).unwrap();
    assert_eq!(output, json!({"end": "succeed"}));
    assert_eq!(succeeded["outputDetails"], json!({"included": true}));
}
