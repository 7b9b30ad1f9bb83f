//! The Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`), answered by running
//! the workflow's handler in-process, with Lambda's success and error shapes; and the same
//! in-process invocation for the stack's EventBridge rules and schedules ([`Functions`]).

use std::any::Any;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::response::Response;
use efs_fargate_core::functions::Function;
use efs_fargate_core::time_scale::TimeScale;
use http::{HeaderValue, StatusCode, header};
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};

use crate::gateway::Shared;

/// The account and region moto reports, for the ARN in "function not found" messages.
const FUNCTION_ARN_PREFIX: &str = "arn:aws:lambda:us-east-1:123456789012:function:";

/// `{name}` is a function name or ARN (optionally qualified), percent-decoded by the router.
pub(crate) async fn invoke(State(shared): State<Arc<Shared>>, Path(name): Path<String>, body: Bytes) -> Response {
    let Some(function) = Function::from_name(&name) else {
        let arn = if name.starts_with("arn:") {
            name
        } else {
            format!("{FUNCTION_ARN_PREFIX}{name}")
        };
        return lambda_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!("Function not found: {arn}"),
        );
    };
    // Lambda accepts an empty payload and hands the function `{}`.
    let payload = if body.trim_ascii().is_empty() {
        json!({})
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(payload) => payload,
            Err(e) => {
                return lambda_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    &format!("Could not parse request body into json: {e}"),
                );
            }
        }
    };
    match run(&shared, function, payload).await {
        Ok(mut output) if shared.fractional_wait_of == Some(function) => {
            output["ready"] = json!(false);
            output["nextPollSeconds"] = json!(0.5);
            invocation_response(output.to_string(), false)
        }
        Ok(mut output) => {
            scale_wait(shared.context.settings.time_scale, &mut output).await;
            invocation_response(output.to_string(), false)
        }
        Err(diagnostic) => invocation_response(
            json!({ "errorType": diagnostic.error_type, "errorMessage": diagnostic.error_message }).to_string(),
            true,
        ),
    }
}

/// Runs `function`'s handler in-process on `payload`, counted in the stats: what an invocation
/// does, whoever asked for it (the Invoke API, or a scheduled rule through [`Functions`]).
pub(crate) async fn run(shared: &Shared, function: Function, payload: Value) -> Result<Value, Diagnostic> {
    shared.stats.invoked(function);
    let started = Instant::now();
    let context = shared.context_of(function);
    // On its own task so a panicking handler becomes a function error, as the Lambda runtime
    // reports it, instead of tearing down the connection the Step Functions engine is waiting on.
    let outcome = tokio::spawn(async move { function.invoke(&context, payload).await })
        .await
        .unwrap_or_else(|join| Err(panic_diagnostic(join.try_into_panic().ok())));
    shared.stats.handled_for(started.elapsed());
    tracing::info!(
        function = function.name(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        error_type = outcome.as_ref().err().map(|d| d.error_type.as_str()),
        "invoked"
    );
    outcome
}

/// Replays the Wait state that follows a poll at the stack's time scale. moto's engine waits
/// whole seconds only (a fractional `SecondsPath` fails the execution, as on AWS), so the Wait gets
/// the whole seconds of the scaled wait and the rest is waited here, before answering: the next
/// poll comes exactly the scaled time later. At scale 1 nothing changes.
async fn scale_wait(scale: TimeScale, output: &mut Value) {
    if scale == TimeScale::default() {
        return;
    }
    let Some(seconds) = output.get("nextPollSeconds").and_then(Value::as_u64) else {
        return;
    };
    let real = scale.real(seconds as f64);
    let whole = real.as_secs();
    output["nextPollSeconds"] = json!(whole);
    tokio::time::sleep(real - Duration::from_secs(whole)).await;
}

/// The gateway's functions, invoked without going through HTTP: how EventBridge's rules reach
/// them (asynchronous invocations, which have no caller waiting on a connection).
#[derive(Clone)]
pub struct Functions(pub(crate) Arc<Shared>);

impl Functions {
    pub async fn invoke(&self, function: Function, payload: Value) -> Result<Value, Diagnostic> {
        run(&self.0, function, payload).await
    }

    /// A handle that does not keep the gateway alive, for what the gateway itself holds.
    pub(crate) fn downgrade(&self) -> WeakFunctions {
        WeakFunctions(Arc::downgrade(&self.0))
    }
}

/// [`Functions`] of a gateway that may be gone.
#[derive(Clone, Debug)]
pub(crate) struct WeakFunctions(Weak<Shared>);

impl WeakFunctions {
    /// `None` once the gateway is gone.
    pub(crate) async fn invoke(&self, function: Function, payload: Value) -> Option<Result<Value, Diagnostic>> {
        let shared = self.0.upgrade()?;
        Some(run(&shared, function, payload).await)
    }
}

/// A completed invocation: always 200; a function error is flagged in `X-Amz-Function-Error`.
fn invocation_response(body: String, function_error: bool) -> Response {
    let mut response = json_response(StatusCode::OK, body);
    let headers = response.headers_mut();
    headers.insert("x-amz-executed-version", HeaderValue::from_static("$LATEST"));
    if function_error {
        headers.insert("x-amz-function-error", HeaderValue::from_static("Unhandled"));
    }
    response
}

/// An error of the Invoke API itself (the function never ran), as Lambda reports it.
fn lambda_error(status: StatusCode, error_type: &'static str, message: &str) -> Response {
    let mut response = json_response(status, json!({ "Type": "User", "message": message }).to_string());
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(error_type));
    response
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// What `lambda_runtime`'s panic layer reports for a panicking handler, so a deployed function and
/// the local stack fail alike.
fn panic_diagnostic(payload: Option<Box<dyn Any + Send>>) -> Diagnostic {
    let message = payload.as_ref().and_then(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
    });
    Diagnostic {
        error_type: std::any::type_name::<&Box<dyn Any + Send>>().to_string(),
        error_message: match message {
            Some(message) => format!("Lambda panicked: {message}"),
            None => "Lambda panicked".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_scaled_wait_gives_the_whole_seconds_to_the_wait_state_and_waits_the_rest_here() {
        let tenth = TimeScale::new(0.1).unwrap();
        let mut poll = json!({"ready": false, "nextPollSeconds": 58});
        let began = Instant::now();
        scale_wait(tenth, &mut poll).await;
        assert_eq!(poll["nextPollSeconds"], 5);
        assert!(began.elapsed() >= Duration::from_millis(790), "{:?}", began.elapsed());

        let mut unscaled = json!({"nextPollSeconds": 58});
        scale_wait(TimeScale::default(), &mut unscaled).await;
        assert_eq!(unscaled["nextPollSeconds"], 58);
    }
}
