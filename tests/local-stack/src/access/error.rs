//! The errors the emulated access-entry API answers with: EKS's codes, HTTP statuses and, where
//! they are known from AWS's answers, its messages word for word.

use axum::response::Response;
use http::StatusCode;

use crate::protocol_errors::{self, AwsError, Protocol};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AccessError {
    #[error("No cluster found for name: {0}.")]
    ClusterNotFound(String),

    #[error(
        "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'."
    )]
    EntryNotFound,

    #[error(
        "The specified policyArn is not associated with this access entry. You can view the associated access policies with 'list-associated-access-policies'."
    )]
    AssociationNotFound,

    #[error("The specified access entry resource is already in use on this cluster.")]
    EntryInUse,

    #[error(
        "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation."
    )]
    NoAccessEntryApi,

    #[error("This operation can only be performed on Access Entries with a type of \"STANDARD\".")]
    NotStandard,

    #[error("Unsupported authentication mode update from {from} to {to}")]
    ModeUpdate { from: String, to: String },

    #[error("bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP")]
    BootstrapRequired,

    /// Bad input that EKS refuses with `InvalidParameterException`.
    #[error("{0}")]
    InvalidParameter(String),

    /// `TagResource` and friends on an access-entry ARN that does not exist.
    #[error("Resource was not found")]
    TagTargetNotFound,
}

impl AccessError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AccessError::ClusterNotFound(_) | AccessError::EntryNotFound | AccessError::AssociationNotFound => {
                (StatusCode::NOT_FOUND, "ResourceNotFoundException")
            }
            AccessError::EntryInUse => (StatusCode::CONFLICT, "ResourceInUseException"),
            AccessError::NoAccessEntryApi => (StatusCode::BAD_REQUEST, "InvalidRequestException"),
            AccessError::NotStandard
            | AccessError::ModeUpdate { .. }
            | AccessError::BootstrapRequired
            | AccessError::InvalidParameter(_) => (StatusCode::BAD_REQUEST, "InvalidParameterException"),
            AccessError::TagTargetNotFound => (StatusCode::NOT_FOUND, "NotFoundException"),
        }
    }

    /// EKS's error code (`ResourceNotFoundException`, ...).
    pub(crate) fn code(&self) -> &'static str {
        self.status_and_code().1
    }

    pub(crate) fn response(&self) -> Response {
        let (status, code) = self.status_and_code();
        let message = self.to_string();
        let error = AwsError {
            status,
            code,
            message: &message,
        };
        protocol_errors::response(Protocol::Json, error, &crate::ids::uuid())
    }
}
