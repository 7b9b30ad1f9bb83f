//! A fake Kubernetes API server that behaves like an EKS cluster whose pods run on Fargate, for
//! the integration tests (in-process) and the local demo (as the `fake-kube-apiserver` process).
//!
//! - HTTPS on `127.0.0.1` with a CA it generates, so clients verify TLS for real.
//! - Bearer tokens checked like aws-iam-authenticator does (pre-signed STS `GetCallerIdentity`,
//!   signature recomputed with the configured credentials, `x-k8s-aws-id` = this cluster).
//! - Authorization like EKS with access entries ([`AccessEntrySource`]): no entry is 401; the
//!   entry's access policies at their scope, then RBAC on its username and groups, else 403.
//! - A REST object store for namespaces, pods, PVs, PVCs, storage classes, CSI drivers, config
//!   maps, secrets, events and RBAC roles and bindings: create, get, list with selectors,
//!   server-side apply, merge patch, delete.
//! - Realistic status: claims bind to matching volumes; pods run only when an `ACTIVE` Fargate
//!   profile (asked from EKS, i.e. moto) selects them; EFS volumes are in-memory trees shared by
//!   file system id; containers run a tiny shell whose output is the pod log.
//!
//! ```ignore
//! let kube = FakeKube::start(Config {
//!     credentials: vec![("testing".into(), "testing".into())],
//!     time_scale: 0.05,
//!     ..Config::new("demo", "us-east-1")
//! })
//! .await?;
//! let endpoint = kube.endpoint();
//! let ca = kube.ca_pem();
//! ```

mod admission;
mod api;
mod auth;
mod clock;
mod cluster;
mod config;
mod error;
mod fake_kube;
mod http_server;
mod kind;
mod logs;
mod quantity;
mod shell;
mod store;
mod tls;
mod volumes;

pub use auth::access::{AccessEntrySource, AccessPolicy, ResolvedAccess, Scope, StaticAccessEntries};
pub use auth::identity::principal_of;
pub use config::Config;
pub use error::StartError;
pub use fake_kube::FakeKube;
