//! What moto cannot show, with `aws-smithy-mocks`: status progressions (CREATING -> ACTIVE),
//! `ResourceInUseException`, `DependencyViolation` and EKS access entries.

mod access;
mod cleanup;
mod fargate;
mod fixtures;
mod prepare;
