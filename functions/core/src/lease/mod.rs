//! Leases in DynamoDB: one writer per cluster+namespace, and one Fargate profile change per cluster
//! (EKS allows a single profile CREATING or DELETING at a time). A lease is one item keyed by
//! [`LeaseKey`], written only with conditional writes, and held by a Step Functions execution
//! (its ARN, or a name) until it is released, handed over or expires. It is crash-safe twice over:
//! an expired lease can be taken by anyone, and a lease whose holder execution has ended (or never
//! existed) can be taken over at once ([`take_over`]), so a crashed run never blocks until expiry.
//! Every operation takes the time as `now`, so tests control it. A DynamoDB TTL on `expiresAt` may
//! sweep old items, but nothing here depends on it: expiry is part of every condition.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld;
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_sdk_sfn::operation::describe_execution::DescribeExecutionError;
use aws_sdk_sfn::types::ExecutionStatus;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use jiff::Timestamp;

use crate::error::{Result, WorkflowError};

mod types;
pub use types::{Acquire, Claim, HandOver, Held, HolderStatus, LeaseKey, Released};

type Item = HashMap<String, AttributeValue>;

/// Takes the lease if it is free, expired, or already the claimant's (then it is extended, so a
/// retried step acquires again without harm).
pub async fn acquire(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &LeaseKey,
    claim: &Claim<'_>,
    now: Timestamp,
) -> Result<Acquire> {
    let (item, expires_at) = lease_item(key, claim, now)?;
    let put = dynamodb
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk) OR holder = :holder OR expiresAt < :now")
        .expression_attribute_values(":holder", AttributeValue::S(claim.holder.into()))
        .expression_attribute_values(":now", epoch_seconds(now))
        .return_values_on_condition_check_failure(AllOld)
        .send()
        .await;
    put_outcome(put, expires_at)
}

/// Asks Step Functions whether `holder` is still running. Only standard-workflow execution ARNs
/// can be checked; anything else is [`HolderStatus::Unverifiable`] without a call.
pub async fn holder_status(sfn: &aws_sdk_sfn::Client, holder: &str) -> Result<HolderStatus> {
    if !is_execution_arn(holder) {
        return Ok(HolderStatus::Unverifiable);
    }
    match sfn.describe_execution().execution_arn(holder).send().await {
        Ok(execution) => Ok(match execution.status() {
            ExecutionStatus::Running | ExecutionStatus::PendingRedrive => HolderStatus::Running,
            ended => HolderStatus::Ended(ended.clone()),
        }),
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(DescribeExecutionError::ExecutionDoesNotExist(_))
            ) =>
        {
            Ok(HolderStatus::NotFound)
        }
        Err(err) => Err(WorkflowError::from_sdk("DescribeExecution", err)),
    }
}

/// Replaces `current` when its execution has ended or does not exist, with a write conditioned on
/// `current` still being the holder, so of two claimants racing for a dead holder's lease only one
/// wins. A running (or unverifiable) holder keeps the lease: the answer is `current` unchanged.
pub async fn take_over(
    dynamodb: &aws_sdk_dynamodb::Client,
    sfn: &aws_sdk_sfn::Client,
    table: &str,
    key: &LeaseKey,
    current: &Held,
    claim: &Claim<'_>,
    now: Timestamp,
) -> Result<Acquire> {
    let status = holder_status(sfn, &current.holder).await?;
    if !status.may_be_taken_over() {
        return Ok(Acquire::Held(current.clone()));
    }
    tracing::info!(key = %key, holder = current.holder, ?status, "taking over the lease of an ended execution");
    let (item, expires_at) = lease_item(key, claim, now)?;
    let put = dynamodb
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("holder = :old")
        .expression_attribute_values(":old", AttributeValue::S(current.holder.clone()))
        .return_values_on_condition_check_failure(AllOld)
        .send()
        .await;
    put_outcome(put, expires_at)
}

/// [`acquire`], and when another holder has the lease, [`take_over`] if that holder has ended.
pub async fn acquire_or_take_over(
    dynamodb: &aws_sdk_dynamodb::Client,
    sfn: &aws_sdk_sfn::Client,
    table: &str,
    key: &LeaseKey,
    claim: &Claim<'_>,
    now: Timestamp,
) -> Result<Acquire> {
    match acquire(dynamodb, table, key, claim, now).await? {
        Acquire::Held(current) => take_over(dynamodb, sfn, table, key, &current, claim, now).await,
        acquired => Ok(acquired),
    }
}

/// Deletes the lease if `holder` has it. Releasing twice, or after the lease passed to someone
/// else, is not an error: the answer says which.
pub async fn release(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &LeaseKey,
    holder: &str,
) -> Result<Released> {
    let deleted = dynamodb
        .delete_item()
        .table_name(table)
        .key("pk", AttributeValue::S(key.as_str().into()))
        .condition_expression("holder = :holder")
        .expression_attribute_values(":holder", AttributeValue::S(holder.into()))
        .return_values_on_condition_check_failure(AllOld)
        .send()
        .await;
    match deleted {
        Ok(_) => Ok(Released::Released),
        Err(err) => Ok(
            match rejected_item("DeleteItem", err, |e| match e {
                DeleteItemError::ConditionalCheckFailedException(f) => Some(f),
                _ => None,
            })? {
                Some(held) => Released::HeldByOther(held),
                None => Released::AlreadyGone,
            },
        ),
    }
}

/// Gives the lease from `from` to `to.holder` in one conditional write, so nothing can take it in
/// between (a failed run handing its lease to the cleanup that rolls it back). Repeating a
/// completed hand-over succeeds again.
pub async fn hand_over(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &LeaseKey,
    from: &str,
    to: &Claim<'_>,
    now: Timestamp,
) -> Result<HandOver> {
    let expires_at = expiry(now, to.duration)?;
    let updated = dynamodb
        .update_item()
        .table_name(table)
        .key("pk", AttributeValue::S(key.as_str().into()))
        .update_expression("SET holder = :to, expiresAt = :expires, acquiredAt = :acquired, purpose = :purpose")
        .condition_expression("holder = :from OR holder = :to")
        .expression_attribute_values(":from", AttributeValue::S(from.into()))
        .expression_attribute_values(":to", AttributeValue::S(to.holder.into()))
        .expression_attribute_values(":expires", epoch_seconds(expires_at))
        .expression_attribute_values(":acquired", AttributeValue::S(now.to_string()))
        .expression_attribute_values(":purpose", AttributeValue::S(to.purpose.into()))
        .return_values_on_condition_check_failure(AllOld)
        .send()
        .await;
    match updated {
        Ok(_) => Ok(HandOver::HandedOver { expires_at }),
        Err(err) => Ok(
            match rejected_item("UpdateItem", err, |e| match e {
                UpdateItemError::ConditionalCheckFailedException(f) => Some(f),
                _ => None,
            })? {
                Some(held) => HandOver::HeldByOther(held),
                None => HandOver::Gone,
            },
        ),
    }
}

/// The full lease item: `pk`, `holder`, `expiresAt` (epoch seconds), `acquiredAt` (RFC 3339),
/// `purpose`; and its expiry.
fn lease_item(key: &LeaseKey, claim: &Claim<'_>, now: Timestamp) -> Result<(Item, Timestamp)> {
    let expires_at = expiry(now, claim.duration)?;
    let item = HashMap::from([
        ("pk".to_string(), AttributeValue::S(key.as_str().into())),
        ("holder".to_string(), AttributeValue::S(claim.holder.into())),
        ("expiresAt".to_string(), epoch_seconds(expires_at)),
        ("acquiredAt".to_string(), AttributeValue::S(now.to_string())),
        ("purpose".to_string(), AttributeValue::S(claim.purpose.into())),
    ]);
    Ok((item, expires_at))
}

fn expiry(now: Timestamp, duration: Duration) -> Result<Timestamp> {
    now.checked_add(duration).map_err(|e| {
        WorkflowError::invalid(
            "lease duration",
            format!("{duration:?} after {now} is out of range: {e}"),
        )
    })
}

fn epoch_seconds(at: Timestamp) -> AttributeValue {
    AttributeValue::N(at.as_second().to_string())
}

/// `arn:<partition>:states:<region>:<account>:execution:<state machine>:<name>`.
fn is_execution_arn(holder: &str) -> bool {
    let parts: Vec<&str> = holder.split(':').collect();
    parts.len() == 8 && parts[0] == "arn" && parts[2] == "states" && parts[5] == "execution"
}

/// A conditional put: acquired, or held by whoever the failed condition returned.
fn put_outcome(
    put: std::result::Result<PutItemOutput, SdkError<PutItemError, HttpResponse>>,
    expires_at: Timestamp,
) -> Result<Acquire> {
    let err = match put {
        Ok(_) => return Ok(Acquire::Acquired { expires_at }),
        Err(err) => err,
    };
    // Both conditions fail only on an existing item, which ALL_OLD returns with the failure.
    rejected_item("PutItem", err, |e| match e {
        PutItemError::ConditionalCheckFailedException(f) => Some(f),
        _ => None,
    })?
    .map(Acquire::Held)
    .ok_or_else(|| WorkflowError::AwsApiError {
        operation: "PutItem".into(),
        code: "ConditionalCheckFailedException".into(),
        message: "the condition failed but DynamoDB returned no item".into(),
    })
}

/// For a failed conditional write: `Ok(Some(holder))` when the condition failed on an existing
/// item, `Ok(None)` when it failed on a missing one, and any other error mapped by
/// [`WorkflowError::from_sdk`].
fn rejected_item<E>(
    operation: &str,
    err: SdkError<E, HttpResponse>,
    check_failed: impl Fn(&E) -> Option<&ConditionalCheckFailedException>,
) -> Result<Option<Held>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err.as_service_error().and_then(check_failed) {
        Some(failed) => failed.item().map(Held::from_item).transpose(),
        None => Err(WorkflowError::from_sdk(operation, err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:efs-workflow-provision:run-1";

    #[test]
    fn keys_name_what_they_protect() {
        assert_eq!(LeaseKey::namespace("demo", "team-a").as_str(), "namespace#demo#team-a");
        assert_eq!(LeaseKey::fargate_profiles("demo").to_string(), "fargate#demo");
    }

    #[test]
    fn a_lease_item_round_trips() {
        let now: Timestamp = "2026-11-30T10:00:00Z".parse().unwrap();
        let claim = Claim {
            holder: ARN,
            purpose: "provision",
            duration: Duration::from_secs(3600),
        };
        let (item, expires_at) = lease_item(&LeaseKey::namespace("demo", "ns"), &claim, now).unwrap();
        assert_eq!(expires_at.to_string(), "2026-11-30T11:00:00Z");
        assert_eq!(item["pk"], AttributeValue::S("namespace#demo#ns".into()));
        assert_eq!(item["expiresAt"], AttributeValue::N(expires_at.as_second().to_string()));
        assert_eq!(item["acquiredAt"], AttributeValue::S("2026-11-30T10:00:00Z".into()));
        assert_eq!(item["purpose"], AttributeValue::S("provision".into()));
        assert_eq!(
            Held::from_item(&item).unwrap(),
            Held {
                holder: ARN.into(),
                expires_at
            }
        );
    }

    #[test]
    fn a_malformed_item_is_named() {
        let item = HashMap::from([
            ("holder".to_string(), AttributeValue::S("x".into())),
            ("expiresAt".to_string(), AttributeValue::S("tomorrow".into())),
        ]);
        let err = Held::from_item(&item).unwrap_err();
        assert!(err.to_string().contains("MalformedLeaseItem"), "{err}");
        assert!(err.to_string().contains("expiresAt"), "{err}");
    }

    #[test]
    fn only_execution_arns_are_checked() {
        assert!(is_execution_arn(ARN));
        assert!(!is_execution_arn("run-1"));
        assert!(!is_execution_arn(
            "arn:aws:states:us-east-1:123456789012:stateMachine:efs-workflow-provision"
        ));
        assert!(HolderStatus::NotFound.may_be_taken_over());
        assert!(HolderStatus::Ended(ExecutionStatus::TimedOut).may_be_taken_over());
        assert!(!HolderStatus::Running.may_be_taken_over());
        assert!(!HolderStatus::Unverifiable.may_be_taken_over());
    }

    #[test]
    fn another_holder_is_run_in_progress() {
        let key = LeaseKey::namespace("demo", "ns");
        let held = Acquire::Held(Held {
            holder: ARN.into(),
            expires_at: Timestamp::UNIX_EPOCH,
        });
        let err = held.or_run_in_progress(&key).unwrap_err();
        assert_eq!(err.error_type(), "RunInProgress");
        assert!(!err.is_retryable());
        assert!(err.to_string().contains(ARN), "{err}");
        let acquired = Acquire::Acquired {
            expires_at: Timestamp::UNIX_EPOCH,
        };
        assert_eq!(acquired.or_run_in_progress(&key), Ok(Timestamp::UNIX_EPOCH));
    }
}
