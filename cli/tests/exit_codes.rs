//! The CLI as a script sees it: cleanup always names its namespace and is confirmed, and each
//! kind of failure has its own exit code. Nothing here reaches AWS: the endpoint is a closed port.

use std::process::{Command, Output, Stdio};

fn efs_workflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_efs-workflow"))
        .args(args)
        .env(
            "EFS_WORKFLOW_CLEANUP_ARN",
            "arn:aws:states:us-east-1:123456789012:stateMachine:cleanup",
        )
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_MAX_ATTEMPTS", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the CLI runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn cleanup_without_a_namespace_is_a_usage_error() {
    let output = efs_workflow(&["cleanup", "--cluster", "prod"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--namespace"), "{}", stderr(&output));
}

#[test]
fn an_unconfirmed_cleanup_in_a_script_starts_nothing() {
    let output = efs_workflow(&["cleanup", "--cluster", "prod", "--namespace", "team-a"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("pass --yes"), "{}", stderr(&output));
}

#[test]
fn a_confirmed_cleanup_that_cannot_reach_aws_exits_3() {
    let output = efs_workflow(&["cleanup", "--cluster", "prod", "--namespace", "team-a", "--yes"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
}

#[test]
fn a_missing_state_machine_arn_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_efs-workflow"))
        .args(["status", "arn:aws:states:us-east-1:1:execution:x:y"])
        .env_remove("EFS_WORKFLOW_PROVISION_ARN")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .expect("the CLI runs");
    // `status` needs no state machine ARN: it reaches for AWS, which is not there.
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let start = efs_workflow(&["start", "--cluster", "prod"]);
    assert_eq!(start.status.code(), Some(2), "{}", stderr(&start));
    assert!(
        stderr(&start).contains("--provision-state-machine"),
        "{}",
        stderr(&start)
    );
}

#[test]
fn missing_credentials_and_region_are_said_as_such() {
    let empty_home = std::env::temp_dir().join("efs-workflow-cli-test-home");
    std::fs::create_dir_all(&empty_home).expect("a home without ~/.aws");
    let run = |remove: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_efs-workflow"));
        command
            .args(["status", "arn:aws:states:us-east-1:1:execution:x:y"])
            .env("HOME", &empty_home)
            .env("AWS_CONFIG_FILE", empty_home.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", empty_home.join("credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_MAX_ATTEMPTS", "1");
        for name in remove {
            command.env_remove(name);
        }
        command.output().expect("the CLI runs")
    };
    let no_credentials = run(&["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"]);
    assert_eq!(no_credentials.status.code(), Some(3), "{}", stderr(&no_credentials));
    assert!(
        stderr(&no_credentials).contains("no usable AWS credentials"),
        "{}",
        stderr(&no_credentials)
    );
    let no_region = run(&["AWS_REGION", "AWS_DEFAULT_REGION"]);
    assert_eq!(no_region.status.code(), Some(3), "{}", stderr(&no_region));
    assert!(stderr(&no_region).contains("no AWS region"), "{}", stderr(&no_region));
    let unreachable = run(&[]);
    assert!(
        stderr(&unreachable).contains("could not be reached"),
        "{}",
        stderr(&unreachable)
    );
}
