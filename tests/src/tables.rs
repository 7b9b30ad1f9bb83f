//! The deployment's DynamoDB tables as `template.yaml` declares them (the local stack's template
//! tests check that they agree): the lease table (string key `pk`, TTL on `expiresAt`) and the
//! ownership ledger (string keys `pk` and `sk`), for the tests and the local stack.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};

use crate::check::OrPanic;

/// The table names the local stack gives the handlers.
pub const LEASE_TABLE: &str = "efs-workflow-leases";
pub const LEDGER_TABLE: &str = "efs-workflow-ledger";

/// The ledger's key schema: partition `pk`, sort `sk`, both strings.
pub const LEDGER_KEYS: [(&str, KeyType); 2] = [("pk", KeyType::Hash), ("sk", KeyType::Range)];

pub async fn create_ledger_table(dynamodb: &aws_sdk_dynamodb::Client, name: &str) {
    let mut create = dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for (attribute, key_type) in LEDGER_KEYS {
        create = create
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attribute)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .or_panic("AttributeDefinition"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(attribute)
                    .key_type(key_type)
                    .build()
                    .or_panic("KeySchemaElement"),
            );
    }
    create.send().await.or_panic("dynamodb create_table (ledger)");
}

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
