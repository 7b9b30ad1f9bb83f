//! The bootstrap grant, as two actions of the `prepare` function (whose role may change access
//! entries; the Kubernetes steps' role may not): `grant-bootstrap` associates cluster-admin with
//! the workflow's own access entry so the next step can install the workflow's RBAC, and
//! `revoke-bootstrap` removes it right after. Security tooling that alerts on every association of
//! AmazonEKSClusterAdminPolicy sees exactly one such pair per cluster (and per RBAC upgrade).

use crate::clients::AwsClients;
use crate::error::Result;
use crate::poll::Poll;
use crate::run::Run;
use crate::steps::access;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BootstrapEvent {
    pub action: BootstrapAction,
    pub run: Run,
    /// How many grants this run asked for before (the state machine caps them).
    #[serde(default)]
    pub attempt: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BootstrapAction {
    GrantBootstrap,
    RevokeBootstrap,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapOutput {
    /// Whether the grant is associated after this call.
    pub granted: bool,
}

pub async fn handle(clients: &AwsClients, event: BootstrapEvent) -> Result<Poll<BootstrapOutput>> {
    event.run.validate()?;
    let run = &event.run;
    match event.action {
        BootstrapAction::GrantBootstrap => {
            access::grant_bootstrap(&clients.eks, run).await?;
            Ok(Poll::ready(
                event.attempt,
                format!(
                    "cluster-admin granted to {} until the workflow's RBAC is installed",
                    run.access.principal_arn
                ),
                BootstrapOutput { granted: true },
            ))
        }
        BootstrapAction::RevokeBootstrap => {
            let revoked = access::revoke_bootstrap(&clients.eks, &run.owner(), &run.access.principal_arn).await?;
            let detail = if revoked {
                format!("cluster-admin revoked from {}", run.access.principal_arn)
            } else {
                "no bootstrap grant to revoke".to_string()
            };
            Ok(Poll::ready(event.attempt, detail, BootstrapOutput { granted: false }))
        }
    }
}
