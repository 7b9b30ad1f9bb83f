//! The `fake-kube-apiserver` binary: ready line, CA file, HTTPS with tokens, stdin lifeline.

use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use secrecy::SecretString;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::common::valid_token;

#[tokio::test]
async fn the_binary_prints_its_endpoint_and_stops_when_stdin_closes() {
    let ca_file = std::env::temp_dir().join(format!("fake-kube-ca-{}.pem", std::process::id()));
    let mut server = Command::new(env!("CARGO_BIN_EXE_fake-kube-apiserver"))
        .args([
            "--cluster",
            "demo",
            "--region",
            "us-east-1",
            "--credentials",
            "testing:testing",
        ])
        .args(["--time-scale", "0.02", "--port", "0", "--ca-out"])
        .arg(&ca_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let stdout = server.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("ready in time")
        .expect("readable")
        .expect("a ready line");
    let ready: serde_json::Value = serde_json::from_str(&ready).expect("JSON");
    let endpoint = ready["endpoint"].as_str().expect("endpoint");
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    let reported = std::path::PathBuf::from(ready["caFile"].as_str().expect("caFile"));
    assert_eq!(reported, std::fs::canonicalize(&ca_file).unwrap());

    let ca = std::fs::read_to_string(&ca_file).expect("CA file");
    let mut config = kube::Config::new(endpoint.parse().unwrap());
    config.root_cert = Some(
        pem::parse_many(ca)
            .unwrap()
            .into_iter()
            .map(|p| p.into_contents())
            .collect(),
    );
    config.auth_info.token = Some(SecretString::from(valid_token()));
    let namespaces: Api<Namespace> = Api::all(kube::Client::try_from(config).unwrap());
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|ns| ns.metadata.name)
        .collect();
    assert_eq!(names, ["default", "kube-node-lease", "kube-public", "kube-system"]);

    drop(server.stdin.take());
    let status = tokio::time::timeout(Duration::from_secs(10), server.wait())
        .await
        .expect("stops when stdin closes")
        .expect("exit status");
    assert!(status.success(), "{status}");
    std::fs::remove_file(&ca_file).ok();
}
