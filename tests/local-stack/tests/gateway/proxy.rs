//! Everything that is not a Lambda invoke is moto's business.

use crate::support::{start_gateway, via};
use efs_fargate_core::clients::AwsClients;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_calls_are_proxied_to_moto_unchanged() {
    let moto = workflow_tests::moto().await;
    let direct = moto.clients();
    let created = direct
        .efs
        .create_file_system()
        .creation_token("proxied")
        .send()
        .await
        .expect("create a file system in moto");
    let (gateway, _) = start_gateway(&moto.sdk_config(), &moto.endpoint(), |c| c);
    let through = AwsClients::new(&via(&moto.sdk_config(), gateway.endpoint(), 1));

    let described = through
        .efs
        .describe_file_systems()
        .creation_token("proxied")
        .send()
        .await
        .expect("describe through the gateway");
    let ids: Vec<&str> = described.file_systems().iter().map(|fs| fs.file_system_id()).collect();
    assert_eq!(ids, [created.file_system_id()]);
    // A moto error comes back as moto sent it.
    let missing = through
        .efs
        .describe_file_systems()
        .file_system_id("fs-00000000")
        .send()
        .await
        .expect_err("no such file system");
    assert!(missing.into_service_error().is_file_system_not_found());
    assert_eq!(gateway.stats().proxied_to("elasticfilesystem"), 2);
}
