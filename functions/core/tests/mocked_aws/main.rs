//! What moto cannot show, with `aws-smithy-mocks`: status progressions (CREATING -> ACTIVE),
//! `ResourceInUseException`, `DependencyViolation`, EKS access entries and a lease holder that is
//! still RUNNING (moto's executions end at once).

mod access;
mod cleanup;
mod fargate;
mod fixtures;
mod lease;
mod prepare;
mod replication;
