//! `seed_foreign_resources`: resources the workflow did not create and must never touch. None of
//! them carries a tag starting with `efs-fargate-workflow` or `app.kubernetes.io/managed-by`.

use aws_sdk_ec2::types::{IpPermission, IpRange};
use efs_fargate_core::clients::AwsClients;

use crate::check::OrPanic;

pub const FOREIGN_CREATION_TOKEN: &str = "foreign-fs";
pub const FOREIGN_SECURITY_GROUP: &str = "foreign-sg";
pub const FOREIGN_KMS_ALIAS: &str = "alias/foreign";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    pub file_system_id: String,
    pub security_group_id: String,
    pub kms_key_id: String,
}

/// An EFS file system (`foreign-fs`), a security group `foreign-sg` in `vpc_id` allowing NFS (2049)
/// from 10.0.0.0/16, and a customer-managed KMS key with alias `alias/foreign`.
pub async fn seed_foreign_resources(clients: &AwsClients, vpc_id: &str) -> Foreign {
    let file_system_id = clients
        .efs
        .create_file_system()
        .creation_token(FOREIGN_CREATION_TOKEN)
        .tags(efs_tag("Name", "foreign-fs"))
        .tags(efs_tag("owner", "another-team"))
        .send()
        .await
        .or_panic("efs create_file_system foreign-fs")
        .file_system_id;

    let security_group_id = clients
        .ec2
        .create_security_group()
        .group_name(FOREIGN_SECURITY_GROUP)
        .description("not managed by efs-fargate-workflow")
        .vpc_id(vpc_id)
        .send()
        .await
        .or_panic("ec2 create_security_group foreign-sg")
        .group_id
        .expect("security group id");
    clients
        .ec2
        .authorize_security_group_ingress()
        .group_id(&security_group_id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(2049)
                .to_port(2049)
                .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/16").build())
                .build(),
        )
        .send()
        .await
        .or_panic("ec2 authorize_security_group_ingress foreign-sg");

    let kms_key_id = clients
        .kms
        .create_key()
        .description("not managed by efs-fargate-workflow")
        .send()
        .await
        .or_panic("kms create_key foreign")
        .key_metadata
        .map(|metadata| metadata.key_id)
        .expect("key metadata");
    clients
        .kms
        .create_alias()
        .alias_name(FOREIGN_KMS_ALIAS)
        .target_key_id(&kms_key_id)
        .send()
        .await
        .or_panic("kms create_alias alias/foreign");

    Foreign {
        file_system_id,
        security_group_id,
        kms_key_id,
    }
}

fn efs_tag(key: &str, value: &str) -> aws_sdk_efs::types::Tag {
    aws_sdk_efs::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .expect("key and value are set")
}
