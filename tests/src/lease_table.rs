//! `create_lease_table`: the lease table as `template.yaml` declares it (string key `pk`, on-demand
//! billing, TTL on `expiresAt`), for the lease tests and the local stack.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};

use crate::check::OrPanic;

/// The table name the local stack gives the handlers.
pub const LEASE_TABLE: &str = "efs-workflow-leases";

pub async fn create_lease_table(dynamodb: &aws_sdk_dynamodb::Client, name: &str) {
    dynamodb
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .or_panic("AttributeDefinition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .or_panic("KeySchemaElement"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .or_panic("dynamodb create_table");
    dynamodb
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expiresAt")
                .build()
                .or_panic("TimeToLiveSpecification"),
        )
        .send()
        .await
        .or_panic("dynamodb update_time_to_live");
}
