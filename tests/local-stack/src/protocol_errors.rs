//! AWS error responses in each protocol the handlers' services speak, shaped so the SDK parses
//! the error code exactly as it does AWS's own.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};

/// How a service reports an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// EKS and EFS (restJson1) and KMS (awsJson1_1): `x-amzn-ErrorType` and a JSON `__type`.
    Json,
    /// EC2's query protocol: `<Response><Errors><Error>...`.
    Ec2,
    /// STS's awsQuery protocol: `<ErrorResponse><Error>...`.
    Query,
}

impl Protocol {
    /// The protocol a service (by its signing name) reports errors in: EC2's own, the query
    /// protocol's (STS, IAM, CloudWatch), or JSON (EKS, EFS, KMS, DynamoDB, Step Functions).
    pub(crate) fn of_service(service: &str) -> Self {
        match service {
            "ec2" => Protocol::Ec2,
            "sts" | "iam" | "monitoring" => Protocol::Query,
            _ => Protocol::Json,
        }
    }

    /// The error code of a call IAM denied.
    pub(crate) fn access_denied_code(self) -> &'static str {
        match self {
            Protocol::Json => "AccessDeniedException",
            Protocol::Ec2 => "UnauthorizedOperation",
            Protocol::Query => "AccessDenied",
        }
    }
}

/// One AWS error: status, code and message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AwsError<'a> {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: &'a str,
}

/// The error as `protocol` sends it, with `request_id` where AWS puts one.
pub(crate) fn response(protocol: Protocol, error: AwsError<'_>, request_id: &str) -> Response {
    let AwsError { status, code, message } = error;
    let (content_type, body) = match protocol {
        Protocol::Json => (
            "application/json",
            serde_json::json!({ "__type": code, "message": message }).to_string(),
        ),
        Protocol::Ec2 => (
            "text/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>\
                 <Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
            ),
        ),
        Protocol::Query => {
            // awsQuery says who is at fault: the caller for throttling, the service for a 5xx.
            let fault = if status.is_server_error() { "Receiver" } else { "Sender" };
            (
                "text/xml",
                format!(
                    "<ErrorResponse><Error><Type>{fault}</Type><Code>{code}</Code><Message>{message}</Message>\
                     </Error><RequestId>{request_id}</RequestId></ErrorResponse>"
                ),
            )
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    if protocol == Protocol::Json {
        headers.insert("x-amzn-errortype", HeaderValue::from_static(code));
    }
    response
}
