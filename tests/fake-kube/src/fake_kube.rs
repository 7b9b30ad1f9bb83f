//! [`FakeKube`]: a running fake API server and what tests read from it.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::api::Api;
use crate::auth::Auth;
use crate::auth::token::TokenVerifier;
use crate::clock::SimClock;
use crate::cluster::{Cluster, ClusterSettings};
use crate::config::Config;
use crate::error::StartError;
use crate::http_server;
use crate::kind::Kind;
use crate::store::ObjectKey;
use crate::tls::ServerIdentity;

/// A fake API server listening on `https://127.0.0.1:PORT`. Dropping it stops the server and
/// every pod simulation (and forgets the volumes).
#[derive(Debug)]
pub struct FakeKube {
    endpoint: String,
    ca_pem: String,
    cluster: Arc<Cluster>,
    available: Arc<AtomicBool>,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl FakeKube {
    /// Generates a CA and serving certificate, listens on loopback and serves in the background.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        if !(config.time_scale.is_finite() && config.time_scale > 0.0) {
            return Err(StartError::TimeScale(config.time_scale));
        }
        if config.cluster_name.is_empty() {
            return Err(StartError::ClusterName(config.cluster_name));
        }
        let identity = ServerIdentity::generate(&config.cluster_name)?;
        let acceptor = TlsAcceptor::from(identity.server_config()?);
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
            .await
            .map_err(|source| StartError::Listen {
                port: config.port,
                source,
            })?;
        let address = listener.local_addr().map_err(|source| StartError::Listen {
            port: config.port,
            source,
        })?;
        let cluster = Cluster::new(
            ClusterSettings {
                cluster_name: config.cluster_name.clone(),
                region: config.region.clone(),
                eks: config.eks.clone(),
                efs: config.efs.clone(),
                pod_start_delay: config.pod_start_delay,
            },
            SimClock::new(config.time_scale),
        );
        let access_entries = config.access_entries.is_some();
        let verifier = TokenVerifier::new(&config.cluster_name, &config.credentials);
        let auth = match config.access_entries {
            Some(source) => Auth::access_entries(
                &config.cluster_name,
                verifier,
                source,
                config.caller_arns.into_iter().collect(),
            ),
            None => Auth::signers(
                &config.cluster_name,
                verifier,
                config.authorized_access_keys.map(|keys| keys.into_iter().collect()),
            ),
        };
        let available = Arc::new(AtomicBool::new(true));
        let api = Arc::new(Api {
            cluster: Arc::clone(&cluster),
            auth,
            server_address: address.to_string(),
            available: Arc::clone(&available),
        });
        let (shutdown, stopped) = watch::channel(false);
        let server = tokio::spawn(http_server::serve(listener, acceptor, api, stopped));
        let endpoint = format!("https://{address}");
        tracing::info!(
            endpoint,
            cluster = config.cluster_name,
            fargate_check = config.eks.is_some(),
            access_entries,
            time_scale = config.time_scale,
            "fake kube-apiserver ready"
        );
        Ok(Self {
            endpoint,
            ca_pem: identity.ca_pem,
            cluster,
            available,
            shutdown,
            server: Some(server),
        })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// The CA certificate (PEM) that signed the serving certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The files of EFS file system `file_system_id` (absolute paths from the file system root →
    /// content), as the pods that mounted it left them.
    pub fn store_files(&self, file_system_id: &str) -> BTreeMap<String, String> {
        self.cluster.files(file_system_id)
    }

    /// A stored object by kind (`Pod`, `pods` or `po`), namespace (`None` for cluster-scoped
    /// kinds) and name.
    pub fn object(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        let kind = Kind::lookup(kind)?;
        self.cluster
            .get(&ObjectKey::new(kind, namespace.unwrap_or_default(), name))
            .ok()
    }

    /// An outage (`false`): every request is answered 503 ServiceUnavailable until it is over
    /// (`true`); what the server stores is kept, and pods go on running.
    pub fn set_available(&self, available: bool) {
        self.available.store(available, Ordering::SeqCst);
    }

    /// Stops listening and waits for the listener to finish; pods stop too.
    pub async fn shutdown(mut self) {
        self.stop_listening().await;
    }

    /// An API server that has gone away (connections refused from now on), while what it stored
    /// stays readable through [`Self::object`] and [`Self::store_files`].
    pub async fn stop_listening(&mut self) {
        self.stop();
        if let Some(server) = self.server.take()
            && let Err(error) = server.await
        {
            tracing::warn!(%error, "the listener task failed");
        }
    }

    fn stop(&self) {
        self.shutdown.send_replace(true);
        self.cluster.stop_all_pods();
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        self.stop();
    }
}
