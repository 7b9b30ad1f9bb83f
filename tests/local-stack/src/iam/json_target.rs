//! What IAM authorizes for the handlers' calls in the JSON protocols that name the operation in
//! `X-Amz-Target`: KMS (the key, found through its alias when named by one, with its tags as
//! `aws:ResourceTag/*`; a create's tags and `kms:KeyUsage`; an alias call on the alias and on its
//! key), DynamoDB (the table, or the index a query names) and Step Functions (the state machine an
//! execution is started on, the execution described).

use bytes::Bytes;
use serde_json::{Value, json};

use super::context::{Tags, request_tags, resource_tags};
use super::evaluate::Request;
use super::{Lookup, Unmodelled};

/// The authorizations one call needs, in the order AWS checks them.
pub(crate) async fn requests(lookup: &Lookup<'_>, body: &Bytes) -> Result<Vec<Request>, Unmodelled> {
    let target = lookup
        .parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let unmodelled = || Unmodelled(format!("the call {target}"));
    let (prefix, operation) = target.split_once('.').ok_or_else(unmodelled)?;
    let text = |field: &str| body[field].as_str().unwrap_or_default().to_string();
    match prefix {
        "TrentService" => Kms { lookup }.requests(operation, &body).await,
        prefix if prefix.starts_with("DynamoDB_") => {
            let table = format!("{}:table/{}", lookup.arn_prefix("dynamodb"), text("TableName"));
            let resource = match body["IndexName"].as_str() {
                Some(index) => format!("{table}/index/{index}"),
                None => table,
            };
            Ok(vec![Request::new(format!("dynamodb:{operation}"), resource)])
        }
        "AWSStepFunctions" => {
            let resource = match operation {
                "StartExecution" => text("stateMachineArn"),
                "DescribeExecution" => text("executionArn"),
                _ => return Err(unmodelled()),
            };
            Ok(vec![Request::new(format!("states:{operation}"), resource)])
        }
        _ => Err(unmodelled()),
    }
}

struct Kms<'a> {
    lookup: &'a Lookup<'a>,
}

impl Kms<'_> {
    async fn requests(&self, operation: &str, body: &Value) -> Result<Vec<Request>, Unmodelled> {
        let action = format!("kms:{operation}");
        let requests = match operation {
            "ListKeys" | "ListAliases" => vec![Request::new(action, "*")],
            "CreateKey" => {
                let tags = kms_tags(&body["Tags"]);
                let usage = body["KeyUsage"].as_str().unwrap_or("ENCRYPT_DECRYPT");
                let mut requests = vec![request_tags(Request::new(action, "*"), &tags).with("kms:KeyUsage", [usage])];
                if !tags.is_empty() {
                    let new = format!("{}:key/*", self.lookup.arn_prefix("kms"));
                    requests.push(request_tags(Request::new("kms:TagResource", new), &tags));
                }
                requests
            }
            "DescribeKey" | "ListResourceTags" | "EnableKeyRotation" | "ScheduleKeyDeletion" => {
                vec![self.on_key(&action, body["KeyId"].as_str().unwrap_or_default()).await?]
            }
            "CreateAlias" => vec![
                Request::new(&action, self.alias_arn(body["AliasName"].as_str().unwrap_or_default())),
                self.on_key(&action, body["TargetKeyId"].as_str().unwrap_or_default())
                    .await?,
            ],
            "DeleteAlias" => {
                let alias = body["AliasName"].as_str().unwrap_or_default();
                vec![
                    Request::new(&action, self.alias_arn(alias)),
                    self.on_key(&action, alias).await?,
                ]
            }
            _ => return Err(Unmodelled(format!("KMS {operation}"))),
        };
        Ok(requests)
    }

    fn alias_arn(&self, alias: &str) -> String {
        format!("{}:{alias}", self.lookup.arn_prefix("kms"))
    }

    /// A request on the key `key` names (an id, an ARN or `alias/...`), with its tags; on `key/*`
    /// without tags when moto has no such key.
    async fn on_key(&self, action: &str, key: &str) -> Result<Request, Unmodelled> {
        let described = self
            .lookup
            .call("TrentService.DescribeKey", &json!({ "KeyId": key }))
            .await?;
        let Some(id) = described
            .as_ref()
            .and_then(|d| d["KeyMetadata"]["KeyId"].as_str())
            .map(str::to_string)
        else {
            return Ok(Request::new(action, format!("{}:key/*", self.lookup.arn_prefix("kms"))));
        };
        let listed = self
            .lookup
            .call("TrentService.ListResourceTags", &json!({ "KeyId": id }))
            .await?;
        let tags = listed.as_ref().map(|l| kms_tags(&l["Tags"])).unwrap_or_default();
        let arn = format!("{}:key/{id}", self.lookup.arn_prefix("kms"));
        Ok(resource_tags(Request::new(action, arn), &tags))
    }
}

/// KMS's tags: `[{"TagKey": .., "TagValue": ..}]`.
fn kms_tags(list: &Value) -> Tags {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t["TagKey"].as_str()?.to_string(), t["TagValue"].as_str()?.to_string())))
        .collect()
}
