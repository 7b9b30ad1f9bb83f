//! The event bus delivering to a function target: the gateway serving with the bus runs the
//! function in-process, once for an event it handles, and a few times, then no more, for one it
//! fails on (EventBridge's and Lambda's retries, with a short backoff).

use std::time::{Duration, Instant};

use efs_fargate_core::functions::Function;
use local_stack::RunningGateway;
use local_stack::events::{EventBus, Pattern, Rule};
use local_stack::template::Target;
use serde_json::json;
use workflow_tests::{ACCOUNT_ID, REGION};

use crate::support::start_gateway;

/// Well past the bus's last retry (3 attempts, 250 ms then 500 ms apart).
const SETTLED: Duration = Duration::from_secs(2);

/// Asserts that `rollback` has run `count` times, and then nothing more for a while.
async fn rollbacks_settle_at(gateway: &RunningGateway, count: u64) {
    let began = Instant::now();
    while gateway.stats().invocations_of(Function::Rollback) < count && began.elapsed() < SETTLED {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(SETTLED).await;
    let stats = gateway.stats();
    assert_eq!(stats.invocations_of(Function::Rollback), count, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_target_runs_once_or_is_retried_a_few_times_when_it_fails() {
    let moto = workflow_tests::moto().await;
    let bus = EventBus::new(aws_sdk_sfn::Client::new(&moto.sdk_config()), ACCOUNT_ID, REGION);
    let (gateway, _) = start_gateway(&moto.sdk_config(), &moto.endpoint(), |c| c.with_events(bus.clone()));
    bus.put_rule(Rule {
        name: "to-rollback".into(),
        pattern: Pattern::new(json!({"source": ["aws.states"]})).unwrap(),
        targets: vec![Target::Function(Function::Rollback)],
    });

    // A run that succeeded: the rollback function has nothing to do, and says so without an error.
    bus.put(json!({
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"executionArn": "arn:x", "name": "run-1", "status": "SUCCEEDED"},
    }));
    rollbacks_settle_at(&gateway, 1).await;

    // No `detail`: the function fails on it every time.
    bus.put(json!({"source": "aws.states", "detail-type": "Step Functions Execution Status Change"}));
    rollbacks_settle_at(&gateway, 1 + 3).await;

    bus.put(json!({"source": "aws.eks"}));
    rollbacks_settle_at(&gateway, 1 + 3).await;
    gateway.shutdown().await;
}
