//! The Lambda Invoke API: the real handlers run in-process, with Lambda's success and error shapes.

use efs_fargate_core::functions::Function;
use http::StatusCode;
use serde_json::json;

use crate::support::{invoke, start_gateway};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_runs_in_process_and_its_aws_calls_go_through_the_gateway() {
    let moto = workflow_tests::moto().await;
    workflow_tests::seed_network(&moto.clients(), "demo").await;
    let (gateway, _) = start_gateway(&moto.sdk_config(), &moto.endpoint(), |c| c);

    let payload = json!({ "runId": "r1", "input": { "clusterName": "demo" } }).to_string();
    let invocation = invoke(gateway.endpoint(), "prepare", &payload).await;

    assert_eq!(invocation.status, StatusCode::OK);
    assert_eq!(invocation.function_error(), None, "{}", invocation.body);
    assert_eq!(invocation.headers["x-amz-executed-version"], "$LATEST");
    assert_eq!(invocation.body["ready"], true, "{}", invocation.body);
    assert_eq!(invocation.body["output"]["status"], "ready", "{}", invocation.body);
    assert_eq!(invocation.body["output"]["run"]["clusterName"], "demo");
    let stats = gateway.stats();
    assert_eq!(stats.invocations_of(Function::Prepare), 1);
    // The handler's SDK calls came back through the gateway on their way to moto.
    assert!(stats.proxied_to("eks") >= 1, "{stats:?}");
    assert!(stats.proxied_to("ec2") >= 1, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_errors_are_unhandled_with_the_workflow_error_name() {
    let moto = workflow_tests::moto().await;
    let (gateway, _) = start_gateway(&moto.sdk_config(), &moto.endpoint(), |c| c);

    let missing_input = invoke(gateway.endpoint(), "prepare", r#"{"runId":"r1"}"#).await;
    assert_eq!(missing_input.status, StatusCode::OK);
    assert_eq!(missing_input.function_error(), Some("Unhandled"));
    assert_eq!(
        missing_input.body["errorType"], "InvalidInput",
        "{}",
        missing_input.body
    );
    assert!(
        missing_input.body["errorMessage"].as_str().unwrap().contains("input"),
        "{}",
        missing_input.body
    );

    // An empty payload reaches the handler as `{}`: the handler, not the Invoke API, rejects it.
    let empty = invoke(gateway.endpoint(), "cleanup", "").await;
    assert_eq!(empty.function_error(), Some("Unhandled"));
    assert_eq!(empty.body["errorType"], "InvalidInput", "{}", empty.body);

    // Functions are found by ARN too, as Lambda does (URL-encoded, as the SDKs send it).
    let arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Acleanup";
    let by_arn = invoke(
        gateway.endpoint(),
        arn,
        r#"{"action":"access-entry","clusterName":"demo","namespace":"ns"}"#,
    )
    .await;
    assert_eq!(by_arn.function_error(), None, "{}", by_arn.body);
    assert_eq!(by_arn.body["ready"], true);
    assert_eq!(gateway.stats().invocations_of(Function::Cleanup), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_functions_and_unparsable_payloads_are_invoke_api_errors() {
    let moto = workflow_tests::moto().await;
    let (gateway, _) = start_gateway(&moto.sdk_config(), &moto.endpoint(), |c| c);

    let unknown = invoke(gateway.endpoint(), "no-such-function", "{}").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.headers["x-amzn-errortype"], "ResourceNotFoundException");
    assert_eq!(unknown.function_error(), None);

    let garbage = invoke(gateway.endpoint(), "prepare", "{not json").await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert_eq!(garbage.headers["x-amzn-errortype"], "InvalidRequestContentException");
    assert!(gateway.stats().invocations.is_empty(), "no handler ran");
}
