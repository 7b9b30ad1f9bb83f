//! What `monitoring.containerInsights` needs from the deployment: the permissions boundary every
//! collector role gets, the log group the collectors write to, and the collector's image.

use crate::error::{Result, WorkflowError};
use crate::rules;
use std::collections::HashMap;

/// The collectors' log group when `CONTAINER_INSIGHTS_LOG_GROUP` is unset (the local stack): the
/// template always names its own.
pub const DEFAULT_LOG_GROUP: &str = "/efs-fargate-workflow/container-insights";
/// The AWS Distro for OpenTelemetry collector, pinned: a collector that changes under a running
/// deployment is a change nobody reviewed. The template's `CollectorImage` moves it.
pub const DEFAULT_COLLECTOR_IMAGE: &str = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsightsSettings {
    /// `CONTAINER_INSIGHTS_BOUNDARY_ARN`: the template's managed policy that caps every collector
    /// role the workflow creates (IAM lets the workflow create roles only with it). Without it,
    /// runs that ask for Container Insights are refused before anything is created.
    pub boundary_arn: Option<String>,
    /// `CONTAINER_INSIGHTS_LOG_GROUP`: the template's group (tagged, with its retention) for the
    /// collectors' performance events; the collector never creates one.
    pub log_group: String,
    /// `COLLECTOR_IMAGE`: the collector's container image.
    pub collector_image: String,
}

impl Default for InsightsSettings {
    fn default() -> Self {
        Self {
            boundary_arn: None,
            log_group: DEFAULT_LOG_GROUP.to_string(),
            collector_image: DEFAULT_COLLECTOR_IMAGE.to_string(),
        }
    }
}

impl InsightsSettings {
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut settings = Self::default();
        if let Some(arn) = get("CONTAINER_INSIGHTS_BOUNDARY_ARN") {
            rules::policy_arn("CONTAINER_INSIGHTS_BOUNDARY_ARN", arn)?;
            settings.boundary_arn = Some(arn.to_string());
        }
        if let Some(group) = get("CONTAINER_INSIGHTS_LOG_GROUP") {
            rules::log_group_name("CONTAINER_INSIGHTS_LOG_GROUP", group)?;
            settings.log_group = group.to_string();
        }
        if let Some(image) = get("COLLECTOR_IMAGE") {
            if image.chars().any(char::is_whitespace) || !image.contains(':') && !image.contains('@') {
                return Err(WorkflowError::invalid(
                    "COLLECTOR_IMAGE",
                    "must be an image reference with a tag or digest, such as public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0",
                ));
            }
            settings.collector_image = image.to_string();
        }
        Ok(settings)
    }

    /// The boundary, or why a run cannot have Container Insights on this deployment.
    pub fn boundary(&self) -> Result<&str> {
        self.boundary_arn.as_deref().ok_or_else(|| {
            WorkflowError::invalid(
                "monitoring.containerInsights",
                "needs a deployment that sets CONTAINER_INSIGHTS_BOUNDARY_ARN (template.yaml does): the workflow creates the collector's IAM role only under that permissions boundary",
            )
        })
    }
}
