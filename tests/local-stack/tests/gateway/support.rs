//! What the gateway tests share: a gateway in front of a moto, SDK clients pointed at it, and a
//! raw Lambda Invoke call.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use bytes::Bytes;
use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::handler::Context;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use local_stack::{Gateway, GatewayConfig, RunningGateway};
use serde_json::Value;
use workflow_tests::settings;

/// `base` pointed at the gateway, in the SDK's standard retry mode with `max_attempts` and a short
/// backoff (the handlers use the default 3 attempts; the backoff only keeps the tests quick).
pub fn via(base: &SdkConfig, endpoint: &str, max_attempts: u32) -> SdkConfig {
    base.to_builder()
        .endpoint_url(endpoint)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(max_attempts)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build()
}

/// A gateway in front of `moto_endpoint` whose handlers' clients (built from `base`) go through
/// it, as the `local-gateway` binary arranges with `AWS_ENDPOINT_URL`, with the local stack's
/// settings. `configure` adds faults or latency. Returns the gateway and the handlers' clients.
pub fn start_gateway(
    base: &SdkConfig,
    moto_endpoint: &str,
    configure: impl FnOnce(GatewayConfig) -> GatewayConfig,
) -> (RunningGateway, AwsClients) {
    let gateway = Gateway::bind(([127, 0, 0, 1], 0)).expect("bind the gateway");
    let clients = AwsClients::new(&via(base, &gateway.endpoint(), 3));
    let context = Arc::new(Context {
        clients: clients.clone(),
        settings: settings(),
    });
    let running = gateway
        .serve(configure(GatewayConfig::new(moto_endpoint, context)))
        .expect("serve");
    (running, clients)
}

/// One Lambda Invoke response.
#[derive(Debug)]
pub struct Invocation {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Invocation {
    pub fn function_error(&self) -> Option<&str> {
        self.headers.get("x-amz-function-error").and_then(|v| v.to_str().ok())
    }
}

/// `POST /2015-03-31/functions/{function}/invocations`, signed for `lambda` as the Step Functions
/// engine's boto3 client would be (the signature itself is not checked).
pub async fn invoke(endpoint: &str, function: &str, payload: &str) -> Invocation {
    let request = http::Request::post(format!("{endpoint}/2015-03-31/functions/{function}/invocations"))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/lambda/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00",
        )
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(payload.to_string())))
        .expect("a valid request");
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await.expect("the gateway answers");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("a complete body").to_bytes();
    Invocation {
        status: parts.status,
        headers: parts.headers,
        body: serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("a JSON body ({e}): {}", String::from_utf8_lossy(&body))),
    }
}
