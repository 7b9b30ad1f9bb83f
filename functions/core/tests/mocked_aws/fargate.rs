//! Fargate profiles: CREATING -> ACTIVE, failures, a busy cluster, deletion.

use crate::fixtures::*;

const PROFILE_ARN: &str = "arn:aws:eks:us-east-1:123456789012:fargateprofile/demo/fp/1";

/// The ledger's record of the profile: the workflow created it.
fn recorded() -> Vec<Rule> {
    ledger_rules(vec![record(
        Some(NAMESPACE),
        Kind::FargateProfile,
        &format!("fp-{NAMESPACE}"),
        PROFILE_ARN,
    )])
}

fn profile(status: FargateProfileStatus) -> FargateProfile {
    FargateProfile::builder()
        .fargate_profile_name(format!("fp-{NAMESPACE}"))
        .fargate_profile_arn(PROFILE_ARN)
        .status(status)
        .pod_execution_role_arn(ROLE)
        .subnets("subnet-a")
        .subnets("subnet-b")
        .selectors(FargateProfileSelector::builder().namespace(NAMESPACE).build())
        .set_tags(Some(owner().tags("x", "run-1", "local").into_iter().collect()))
        .health(
            FargateProfileHealth::builder()
                .issues(
                    FargateProfileIssue::builder()
                        .code(FargateProfileIssueCode::PodExecutionRoleAlreadyInUse)
                        .message("role in use")
                        .build(),
                )
                .build(),
        )
        .build()
}

fn described(status: FargateProfileStatus) -> DescribeFargateProfileOutput {
    described_since(status, 0)
}

/// Described with `createdAt` `seconds_ago` on [`fast_clock`]'s scale (a simulated second is a
/// real millisecond).
fn described_since(status: FargateProfileStatus, seconds_ago: i64) -> DescribeFargateProfileOutput {
    let created = aws_smithy_types::DateTime::from_millis(jiff::Timestamp::now().as_millisecond() - seconds_ago);
    let mut profile = profile(status);
    profile.created_at = Some(created);
    DescribeFargateProfileOutput::builder().fargate_profile(profile).build()
}

/// The first poll comes near the end EKS usually needs (a Wait state until then), and from there
/// the function polls itself until ACTIVE.
#[tokio::test]
async fn fargate_status_goes_from_creating_to_active() {
    let describe = mock!(aws_sdk_eks::Client::describe_fargate_profile)
        .sequence()
        .output(|| described_since(FargateProfileStatus::Creating, 10))
        .output(|| described_since(FargateProfileStatus::Creating, 150))
        .times(2)
        .output(|| described_since(FargateProfileStatus::Active, 160))
        .build();
    let clients = Mocks {
        eks: vec![describe],
        dynamodb: recorded(),
        ..Default::default()
    }
    .clients();
    let mut polls = Vec::new();
    let mut attempt = 0;
    loop {
        let poll = fargate::profile(&clients, &fast_clock(), &run(), None, attempt)
            .await
            .unwrap();
        attempt = poll.attempt;
        polls.push((poll.ready, poll.next_poll_seconds));
        if poll.ready {
            break;
        }
    }
    // 145 s is `pacing::FARGATE_PROFILE.first_poll()`, less the 10 s (and the few simulated
    // seconds the call itself took); the next call saw CREATING twice, then ACTIVE.
    assert!(matches!(polls.as_slice(), [(false, 125..=135), (true, 0)]), "{polls:?}");
    assert_eq!(attempt, 2);
}

#[tokio::test]
async fn a_failed_profile_reports_its_health_issues() {
    let describe = mock!(aws_sdk_eks::Client::describe_fargate_profile)
        .then_output(|| described(FargateProfileStatus::CreateFailed));
    let clients = Mocks {
        eks: vec![describe],
        dynamodb: recorded(),
        ..Default::default()
    }
    .clients();
    let err = fargate::profile(&clients, &settings(), &run(), None, 0)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "FargateProfileFailed");
    assert!(err.to_string().contains("role in use"), "{err}");
}

#[tokio::test]
async fn another_profile_in_flight_makes_creation_retryable_busy() {
    let describe = mock!(aws_sdk_eks::Client::describe_fargate_profile)
        .then_error(|| DescribeFargateProfileError::ResourceNotFoundException(not_found()));
    let create = mock!(aws_sdk_eks::Client::create_fargate_profile).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(409).unwrap(),
            aws_smithy_types::body::SdkBody::from(
                r#"{"__type":"ResourceInUseException","message":"Cannot create Fargate Profile fp-x because cluster demo currently has Fargate profile fp-y in status CREATING"}"#,
            ),
        )
    });
    let clients = Mocks {
        eks: vec![
            describe,
            create,
            describe_cluster(ClusterStatus::Active, AuthenticationMode::Api),
        ],
        ec2: network_rules(),
        dynamodb: ledger_rules(vec![]),
        ..Default::default()
    }
    .clients();
    let err = fargate::converge(&clients, &settings(), &run_on_mocked_network(), None)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "FargateProfileBusy");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("fp-y in status CREATING"), "{err}");
}

#[tokio::test]
async fn a_run_whose_network_is_not_the_clusters_creates_no_profile() {
    let describe = mock!(aws_sdk_eks::Client::describe_fargate_profile)
        .then_error(|| DescribeFargateProfileError::ResourceNotFoundException(not_found()));
    let clients = Mocks {
        eks: vec![
            describe,
            describe_cluster(ClusterStatus::Active, AuthenticationMode::Api),
        ],
        ec2: network_rules(),
        dynamodb: ledger_rules(vec![]),
        ..Default::default()
    }
    .clients();
    // run() names subnet-b as private too; EC2 knows only subnet-a (and a public one).
    let err = fargate::converge(&clients, &settings(), &run(), None)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
    assert!(err.to_string().contains("run.network"), "{err}");
}

#[tokio::test]
async fn profile_cleanup_waits_while_deleting_and_ends_when_gone() {
    let describe = mock!(aws_sdk_eks::Client::describe_fargate_profile)
        .sequence()
        .output(|| described(FargateProfileStatus::Deleting))
        .error(|| DescribeFargateProfileError::ResourceNotFoundException(not_found()))
        .build();
    let mocks = Mocks {
        eks: vec![describe],
        dynamodb: recorded(),
        ..Default::default()
    };
    let clients = mocks.clients();
    let event = |attempt| CleanupEvent {
        attempt,
        ..cleanup_event(CleanupAction::FargateProfile, NAMESPACE)
    };
    let first = cleanup(&clients, &settings(), event(0)).await.unwrap();
    assert!(!first.ready);
    assert_eq!(first.next_poll_seconds, 10);
    let second = cleanup(&clients, &settings(), event(first.attempt)).await.unwrap();
    assert!(second.ready);
    assert_eq!(second.attempt, 2);
}
