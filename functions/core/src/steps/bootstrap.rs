//! The bootstrap grant, as two actions of the `prepare` function (whose role may change access
//! entries; the Kubernetes steps' role may not): `grant-bootstrap` associates cluster-admin with
//! the workflow's own access entry so the next step can install the workflow's RBAC, and
//! `revoke-bootstrap` removes it right after. Security tooling that alerts on every association of
//! AmazonEKSClusterAdminPolicy sees exactly one such pair per cluster (and per RBAC upgrade).

use crate::aws;
use crate::clients::AwsClients;
use crate::error::Result;
use crate::ledger::Ledger;
use crate::poll::Poll;
use crate::resources::bootstrap_grant;
use crate::run::Run;
use crate::settings::Settings;
use crate::steps::doctor;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BootstrapEvent {
    pub action: BootstrapAction,
    pub run: Run,
    /// How many grants this run asked for before (the state machine caps them).
    #[serde(default)]
    pub attempt: u32,
    /// The execution's ARN (`$$.Execution.Id`): recorded with the grant, so the reaper's sweep
    /// revokes a grant whose run has ended without revoking it.
    #[serde(default)]
    pub execution_arn: Option<String>,
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

pub async fn handle(clients: &AwsClients, settings: &Settings, event: BootstrapEvent) -> Result<Poll<BootstrapOutput>> {
    event.run.validate()?;
    let run = &event.run;
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    match event.action {
        BootstrapAction::GrantBootstrap => {
            // Asked again at the moment of the grant: a cluster that dropped the opt-in tag since
            // `prepare` gets no cluster-admin, not even for a step.
            let cluster = aws::eks::cluster(&clients.eks, &run.request.cluster_name).await?;
            doctor::opted_in(&cluster)?;
            bootstrap_grant::grant(&clients.eks, &ledger, run, event.execution_arn.as_deref()).await?;
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
            let revoked = bootstrap_grant::revoke(
                &clients.eks,
                &ledger,
                &run.request.cluster_name,
                &run.access.principal_arn,
            )
            .await?;
            let detail = if revoked {
                format!("cluster-admin revoked from {}", run.access.principal_arn)
            } else {
                "no bootstrap grant to revoke".to_string()
            };
            Ok(Poll::ready(event.attempt, detail, BootstrapOutput { granted: false }))
        }
    }
}
