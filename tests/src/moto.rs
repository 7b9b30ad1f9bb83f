//! `moto()`: exclusive use of the shared moto server, with all state wiped first.

use std::path::Path;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use efs_fargate_core::clients::{AwsClients, https_client};
use tokio::sync::{Mutex, MutexGuard};

use crate::http::{self, Response};
use crate::server::{Server, server};

/// The region every test runs in.
pub const REGION: &str = "us-east-1";
/// The account moto reports for any credentials.
pub const ACCOUNT_ID: &str = "123456789012";
/// The local stack's static credentials.
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";

/// moto's defaults for the settings that `/moto-api/config` can change. They survive
/// `/moto-api/reset`, so [`moto()`] puts them back explicitly: a test that turns on Step Functions
/// execution does not leak that into the next test.
const DEFAULT_CONFIG: &str =
    r#"{"batch":{"use_docker":true},"lambda":{"use_docker":true},"stepfunctions":{"execute_state_machine":false}}"#;

/// Serialises the tests of one test binary: they share one server and its state.
static LOCK: Mutex<()> = Mutex::const_new(());

/// Exclusive access to the freshly reset moto server, until dropped.
#[derive(Debug)]
pub struct MotoGuard {
    server: &'static Server,
    _lock: MutexGuard<'static, ()>,
}

/// Waits for the shared moto server (starting it on first use), wipes its state and restores its
/// default config. Tests in one binary therefore run one at a time while they hold the guard.
pub async fn moto() -> MotoGuard {
    let lock = LOCK.lock().await;
    let guard = MotoGuard {
        server: server(),
        _lock: lock,
    };
    guard.expect_ok("POST", "/moto-api/reset", "");
    guard.expect_ok("POST", "/moto-api/config", DEFAULT_CONFIG);
    // Every deployment has its ledger; the local settings name this one.
    crate::create_ledger_table(&guard.clients().dynamodb, crate::LEDGER_TABLE).await;
    guard
}

impl MotoGuard {
    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Region `us-east-1`, static credentials `testing`/`testing`, every service pointed at moto,
    /// and the project's HTTPS client. Nothing is read from the environment.
    pub fn sdk_config(&self) -> SdkConfig {
        sdk_config(&self.endpoint())
    }

    /// Every client of the workflow, built from [`Self::sdk_config`].
    pub fn clients(&self) -> AwsClients {
        AwsClients::new(&self.sdk_config())
    }

    /// Where moto's stdout/stderr go (under the system temp dir, one file per test process).
    pub fn log_path(&self) -> &Path {
        &self.server.log_path
    }

    /// How long the server took to answer its first request (spawn to ready).
    pub fn startup_time(&self) -> Duration {
        self.server.startup
    }

    /// A raw call to moto's control API, e.g.
    /// `api("POST", "/moto-api/config", r#"{"stepfunctions":{"execute_state_machine":true}}"#)`.
    /// Panics when moto can't be reached.
    pub fn api(&self, method: &str, path: &str, body: &str) -> Response {
        http::request(self.server.addr, method, path, body, Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("moto {method} {path} failed: {e}; log {}", self.log_path().display()))
    }

    fn expect_ok(&self, method: &str, path: &str, body: &str) {
        let response = self.api(method, path, body);
        assert!(
            (200..300).contains(&response.status),
            "moto {method} {path} answered {}: {}",
            response.status,
            response.body
        );
    }
}

/// The SDK configuration of the local stack: region `us-east-1`, static credentials
/// `testing`/`testing` (what the fake Kubernetes API server verifies tokens with), every service
/// at `endpoint`, and the project's HTTPS client. Nothing is read from the environment.
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "local-stack",
        )))
        .endpoint_url(endpoint)
        .http_client(https_client())
        .build()
}
