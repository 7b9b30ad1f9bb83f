//! Cleanup of a security group whose network interfaces are still going away.

use crate::fixtures::*;

#[tokio::test]
async fn a_security_group_still_in_use_is_a_retryable_dependency_error() {
    let describe = mock!(aws_sdk_ec2::Client::describe_security_groups).then_output(|| {
        aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput::builder()
            .security_groups(
                aws_sdk_ec2::types::SecurityGroup::builder()
                    .group_id("sg-1")
                    .vpc_id("vpc-1")
                    .build(),
            )
            .build()
    });
    let delete = mock!(aws_sdk_ec2::Client::delete_security_group).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
            aws_smithy_types::body::SdkBody::from(
                "<Response><Errors><Error><Code>DependencyViolation</Code><Message>resource sg-1 has a dependent object</Message></Error></Errors><RequestID>r</RequestID></Response>",
            ),
        )
    });
    let mocks = Mocks {
        ec2: vec![describe, delete],
        efs: vec![no_file_systems()],
        dynamodb: ledger_rules(vec![record(
            Some(NAMESPACE),
            Kind::SecurityGroup,
            &owner().security_group_name(),
            "sg-1",
        )]),
        ..Default::default()
    };
    let event = cleanup_event(CleanupAction::SecurityGroup, NAMESPACE);
    let err = cleanup(&mocks.clients(), &settings(), event).await.unwrap_err();
    assert_eq!(err.error_type(), "DependencyNotReady");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("dependent object"), "{err}");
}
