//! The "AWS API Call via CloudTrail" event EventBridge receives for a management API call, in the
//! shape EKS's calls produce (`events/eventbridge/*.json` are real-shaped samples): who called,
//! `requestParameters` as sent, and `responseElements` as answered, or `errorCode` and
//! `errorMessage` for a refused call, which CloudTrail records too.

use http::HeaderMap;
use http::header::{AUTHORIZATION, USER_AGENT};
use serde_json::{Value, json};

use super::{event_time, uuid};

/// How the call ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Answered(Value),
    Refused { code: String, message: String },
}

/// One API call as CloudTrail saw it.
#[derive(Clone, Debug)]
pub struct ApiCall {
    /// `eks`, the service's endpoint prefix: `source` is `aws.eks`, `eventSource` `eks.amazonaws.com`.
    pub service: &'static str,
    pub operation: &'static str,
    pub request: Value,
    pub outcome: Outcome,
    /// The caller's ARN, when the stack could ask STS.
    pub caller_arn: Option<String>,
}

/// The event for `call`, made on the bus of `account` in `region`; `headers` are the caller's.
pub fn event(call: ApiCall, headers: &HeaderMap, account: &str, region: &str) -> Value {
    let time = event_time(jiff::Timestamp::now());
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let access_key_id = header(AUTHORIZATION)
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').next());
    let mut detail = json!({
        "eventVersion": "1.09",
        "userIdentity": user_identity(call.caller_arn.as_deref(), access_key_id, account),
        "eventTime": time,
        "eventSource": format!("{}.amazonaws.com", call.service),
        "eventName": call.operation,
        "awsRegion": region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": header(USER_AGENT).unwrap_or_default(),
        "requestParameters": call.request,
        "requestID": uuid(),
        "eventID": uuid(),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management",
    });
    match call.outcome {
        Outcome::Answered(response) => detail["responseElements"] = response,
        Outcome::Refused { code, message } => {
            detail["errorCode"] = json!(code);
            detail["errorMessage"] = json!(message);
            detail["responseElements"] = Value::Null;
        }
    }
    json!({
        "version": "0",
        "id": uuid(),
        "detail-type": "AWS API Call via CloudTrail",
        "source": format!("aws.{}", call.service),
        "account": account,
        "time": time,
        "region": region,
        "resources": [],
        "detail": detail,
    })
}

fn user_identity(arn: Option<&str>, access_key_id: Option<&str>, account: &str) -> Value {
    let kind = match arn {
        Some(arn) if arn.contains(":assumed-role/") => "AssumedRole",
        Some(arn) if arn.ends_with(":root") => "Root",
        _ => "IAMUser",
    };
    json!({ "type": kind, "arn": arn, "accountId": account, "accessKeyId": access_key_id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/eks/aws4_request, SignedHeaders=host, Signature=0",
            ),
        );
        headers.insert(USER_AGENT, HeaderValue::from_static("aws-sdk-rust/1"));
        headers
    }

    #[test]
    fn an_answered_create_cluster_has_the_fields_the_handlers_and_the_rule_read() {
        let request = json!({"name": "c1", "tags": {"efs-fargate-workflow/provision": "true"}});
        let response = json!({"cluster": {"name": "c1", "status": "ACTIVE"}});
        let call = ApiCall {
            service: "eks",
            operation: "CreateCluster",
            request: request.clone(),
            outcome: Outcome::Answered(response.clone()),
            caller_arn: Some("arn:aws:sts::123456789012:user/moto".into()),
        };
        let event = event(call, &headers(), "123456789012", "us-east-1");
        assert_eq!(event["source"], "aws.eks");
        assert_eq!(event["detail-type"], "AWS API Call via CloudTrail");
        assert_eq!(
            (&event["account"], &event["region"]),
            (&json!("123456789012"), &json!("us-east-1"))
        );
        let detail = &event["detail"];
        assert_eq!(detail["eventSource"], "eks.amazonaws.com");
        assert_eq!(detail["eventName"], "CreateCluster");
        assert_eq!(detail["awsRegion"], "us-east-1");
        assert_eq!(detail["requestParameters"], request);
        assert_eq!(detail["responseElements"], response);
        assert_eq!(detail["userIdentity"]["accessKeyId"], "AKIDEXAMPLE");
        assert_eq!(detail["userIdentity"]["type"], "IAMUser");
        assert_eq!(detail["userAgent"], "aws-sdk-rust/1");
        assert!(detail.get("errorCode").is_none());
        let time = event["time"].as_str().unwrap();
        assert!(time.ends_with('Z') && !time.contains('.'), "{time}");
        assert_ne!(event["id"], detail["eventID"]);
    }

    #[test]
    fn a_refused_call_carries_its_error_and_no_response() {
        let call = ApiCall {
            service: "eks",
            operation: "CreateCluster",
            request: json!({"name": "c1"}),
            outcome: Outcome::Refused {
                code: "ResourceInUseException".into(),
                message: "Cluster already exists with name: c1".into(),
            },
            caller_arn: None,
        };
        let event = event(call, &HeaderMap::new(), "123456789012", "us-east-1");
        let detail = &event["detail"];
        assert_eq!(detail["errorCode"], "ResourceInUseException");
        assert_eq!(detail["errorMessage"], "Cluster already exists with name: c1");
        assert_eq!(detail["responseElements"], Value::Null);
        assert_eq!(detail["userIdentity"]["accessKeyId"], Value::Null);
    }
}
