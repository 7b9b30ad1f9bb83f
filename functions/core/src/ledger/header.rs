//! A namespace's header: its generation (one more for every provisioning run that takes the
//! namespace, so a rollback can tell whether a later run has held it since), the run in flight,
//! and the expiry the TTL reaper goes by. Expiry lives here and nowhere else: a tag that says
//! otherwise starts nothing.

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValue;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld;
use jiff::Timestamp;

use super::item::{Item, condition_failed, get_bool, get_s, malformed, req_n, req_s, s};
use super::place::{cluster_pk, header_sk, namespace_prefix};
use super::{ClusterView, Kind, Ledger, NamespaceView, Record};
use crate::error::{Result, WorkflowError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub cluster: String,
    pub namespace: String,
    pub generation: u64,
    /// The run that holds the current generation.
    pub run: String,
    /// That run's execution, while known: whether it still runs is asked of Step Functions.
    pub execution_arn: Option<String>,
    /// True from `prepare` until the run has ended (succeeded, or its rollback decided).
    pub in_flight: bool,
    /// When the TTL reaper cleans the namespace up (RFC 3339), if ever.
    pub expires_at: Option<String>,
}

impl Header {
    fn from_item(item: &Item) -> Result<Self> {
        Ok(Self {
            cluster: req_s(item, "cluster")?,
            namespace: req_s(item, "namespace")?,
            generation: req_n(item, "generation")?,
            run: req_s(item, "run")?,
            execution_arn: get_s(item, "executionArn"),
            in_flight: get_bool(item, "inFlight"),
            expires_at: get_s(item, "expiresAt"),
        })
    }

    /// The expiry as an instant; `None` without one (an unreadable one is reported, never guessed).
    pub fn expiry(&self) -> Result<Option<Timestamp>> {
        self.expires_at
            .as_deref()
            .map(|text| {
                text.parse::<Timestamp>().map_err(|e| WorkflowError::AwsApiError {
                    operation: "ReadLedger".into(),
                    code: "MalformedLedgerItem".into(),
                    message: format!(
                        "the expiry `{text}` of {}/{} is not an RFC 3339 instant: {e}",
                        self.cluster, self.namespace
                    ),
                })
            })
            .transpose()
    }
}

/// Epoch seconds of an RFC 3339 expiry, for the reaper's numeric filter.
fn epoch(expires_at: &str) -> Result<u64> {
    expires_at
        .parse::<Timestamp>()
        .map(|t| t.as_second().max(0).unsigned_abs())
        .map_err(|e| WorkflowError::invalid("expiresAt", format!("must be an RFC 3339 instant: {e}")))
}

impl Ledger {
    fn header_key(cluster: &str, namespace: &str) -> Item {
        Item::from([
            ("pk".into(), s(cluster_pk(cluster))),
            ("sk".into(), s(header_sk(namespace))),
        ])
    }

    /// Starts `run_id`'s generation of the namespace: one more than the last, the run in flight,
    /// and, when the namespace has none yet, `expires_at`. A retried `prepare` of the same run
    /// changes nothing and gets the same generation.
    pub async fn begin_run(
        &self,
        cluster: &str,
        namespace: &str,
        run_id: &str,
        execution_arn: Option<&str>,
        expires_at: Option<&str>,
    ) -> Result<u64> {
        let mut sets = vec![
            "generation = if_not_exists(generation, :zero) + :one",
            "#run = :run",
            "inFlight = :true",
            "itemType = :header",
            "#cluster = :cluster",
            "#namespace = :namespace",
            "deployment = :deployment",
            "updatedAt = :now",
        ];
        let mut update = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::header_key(cluster, namespace)))
            .condition_expression("attribute_not_exists(#run) OR #run <> :run")
            .expression_attribute_names("#run", "run")
            .expression_attribute_names("#cluster", "cluster")
            .expression_attribute_names("#namespace", "namespace")
            .expression_attribute_values(":zero", super::item::n(0))
            .expression_attribute_values(":one", super::item::n(1))
            .expression_attribute_values(":run", s(run_id))
            .expression_attribute_values(":true", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
            .expression_attribute_values(":header", s("header"))
            .expression_attribute_values(":cluster", s(cluster))
            .expression_attribute_values(":namespace", s(namespace))
            .expression_attribute_values(":deployment", s(&self.deployment))
            .expression_attribute_values(":now", s(Timestamp::now().to_string()));
        if let Some(arn) = execution_arn {
            sets.push("executionArn = :arn");
            update = update.expression_attribute_values(":arn", s(arn));
        }
        if let Some(expires_at) = expires_at {
            sets.push("expiresAt = if_not_exists(expiresAt, :expires)");
            sets.push("expiresEpoch = if_not_exists(expiresEpoch, :epoch)");
            update = update
                .expression_attribute_values(":expires", s(expires_at))
                .expression_attribute_values(":epoch", super::item::n(epoch(expires_at)?));
        }
        let expression = match execution_arn {
            Some(_) => format!("SET {}", sets.join(", ")),
            None => format!("SET {} REMOVE executionArn", sets.join(", ")),
        };
        let updated = update
            .update_expression(expression)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(AllOld)
            .send()
            .await;
        let item = match updated {
            Ok(out) => out.attributes().cloned().unwrap_or_default(),
            // This run began already (a retried prepare): its generation stands.
            Err(err) => condition_failed("dynamodb:UpdateItem", err, |e| match e {
                UpdateItemError::ConditionalCheckFailedException(f) => Some(f.item()),
                _ => None,
            })?
            .unwrap_or_default(),
        };
        req_n(&item, "generation")
    }

    /// Ends `run_id`'s part: not in flight any more, and on success with a `ttl` its expiry
    /// (a re-run extends the namespace's life; a run without one keeps the expiry an earlier run
    /// set). `false` when a later run holds the namespace now: nothing is changed then.
    pub async fn end_run(&self, cluster: &str, namespace: &str, run_id: &str, restamp: Option<&str>) -> Result<bool> {
        let mut update = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::header_key(cluster, namespace)))
            .condition_expression("#run = :run")
            .expression_attribute_names("#run", "run")
            .expression_attribute_values(":run", s(run_id))
            .expression_attribute_values(":false", aws_sdk_dynamodb::types::AttributeValue::Bool(false))
            .expression_attribute_values(":now", s(Timestamp::now().to_string()));
        let expression = match restamp {
            Some(expires_at) => {
                update = update
                    .expression_attribute_values(":expires", s(expires_at))
                    .expression_attribute_values(":epoch", super::item::n(epoch(expires_at)?));
                "SET inFlight = :false, updatedAt = :now, expiresAt = :expires, expiresEpoch = :epoch"
            }
            None => "SET inFlight = :false, updatedAt = :now",
        };
        super::item::updated(update.update_expression(expression).send().await)
    }

    /// Once nothing of the namespace is recorded any more, its expiry goes (the reaper has nothing
    /// to clean up), unless a run began since (`generation` moved). The header itself stays, so
    /// generations only ever grow and a stale rollback can never match a later run's.
    pub async fn settle_namespace(&self, cluster: &str, namespace: &str, generation: u64) -> Result<()> {
        let updated = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::header_key(cluster, namespace)))
            .update_expression("REMOVE expiresAt, expiresEpoch SET updatedAt = :now")
            .condition_expression("generation = :generation AND inFlight = :false")
            .expression_attribute_values(":generation", super::item::n(generation))
            .expression_attribute_values(":false", aws_sdk_dynamodb::types::AttributeValue::Bool(false))
            .expression_attribute_values(":now", s(Timestamp::now().to_string()))
            .send()
            .await;
        super::item::updated(updated).map(|_| ())
    }

    /// Everything recorded for one namespace.
    pub async fn namespace(&self, cluster: &str, namespace: &str) -> Result<NamespaceView> {
        let items = self.query(cluster, Some(&namespace_prefix(namespace))).await?;
        let view = split(items)?;
        Ok(view.namespace(namespace))
    }

    /// Everything recorded for one cluster.
    pub async fn cluster(&self, cluster: &str) -> Result<ClusterView> {
        split(self.query(cluster, None).await?)
    }

    /// Every record of the account and region (KMS keys behind an alias).
    pub async fn account(&self) -> Result<Vec<Record>> {
        let items = self.query_pk(super::place::ACCOUNT_PK.to_string(), None).await?;
        items.iter().map(Record::from_item).collect()
    }

    async fn query(&self, cluster: &str, prefix: Option<&str>) -> Result<Vec<Item>> {
        self.query_pk(cluster_pk(cluster), prefix).await
    }

    async fn query_pk(&self, pk: String, prefix: Option<&str>) -> Result<Vec<Item>> {
        let mut query = self
            .dynamodb
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .expression_attribute_values(":pk", s(pk));
        query = match prefix {
            Some(prefix) => query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix)),
            None => query.key_condition_expression("pk = :pk"),
        };
        query
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<_>, _>>()
            .await
            .map_err(|e| WorkflowError::from_sdk("dynamodb:Query", e))
    }

    /// The headers of namespaces whose expiry has passed, across every cluster.
    pub async fn expired(&self, now: Timestamp) -> Result<Vec<Header>> {
        let now = super::item::n(now.as_second().max(0).unsigned_abs());
        let items = self
            .scan(
                "itemType = :header AND expiresEpoch <= :now",
                [(":header", s("header")), (":now", now)],
            )
            .await?;
        items.iter().map(Header::from_item).collect()
    }

    /// Every shared record of `kind`, across every cluster (the reaper's sweep of bootstrap grants).
    pub async fn shared_of_kind(&self, kind: Kind) -> Result<Vec<Record>> {
        let items = self
            .scan(
                "itemType = :resource AND kind = :kind AND attribute_not_exists(namespace)",
                [(":resource", s("resource")), (":kind", s(kind.as_str()))],
            )
            .await?;
        items.iter().map(Record::from_item).collect()
    }

    /// Every item of the table that matches `filter`: the reaper's sweeps, which cross clusters.
    async fn scan<const N: usize>(
        &self,
        filter: &str,
        values: [(&str, aws_sdk_dynamodb::types::AttributeValue); N],
    ) -> Result<Vec<Item>> {
        values
            .into_iter()
            .fold(
                self.dynamodb
                    .scan()
                    .table_name(&self.table)
                    .consistent_read(true)
                    .filter_expression(filter),
                |scan, (name, value)| scan.expression_attribute_values(name, value),
            )
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<_>, _>>()
            .await
            .map_err(|e| WorkflowError::from_sdk("dynamodb:Scan", e))
    }
}

/// Headers, namespace records and shared records of one cluster's items.
fn split(items: Vec<Item>) -> Result<ClusterView> {
    let mut view = ClusterView::default();
    for item in &items {
        match get_s(item, "itemType").as_deref() {
            Some("header") => view.headers.push(Header::from_item(item)?),
            Some("resource") => {
                let record = Record::from_item(item)?;
                if record.namespace.is_some() {
                    view.records.push(record);
                } else {
                    view.shared.push(record);
                }
            }
            _ => return Err(malformed(item, "has no known `itemType`")),
        }
    }
    Ok(view)
}
