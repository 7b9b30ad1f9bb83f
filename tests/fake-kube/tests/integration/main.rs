//! The fake API server driven the way the workflow drives it: a real `kube::Client` over HTTPS
//! with EKS tokens, and moto's EKS for the Fargate profiles. One test binary (one link).

mod access;
mod admission;
mod binding;
mod common;
mod errors;
mod fargate;
mod process;
mod rbac;
mod tokens;
mod verbs;
mod volumes;
mod workloads;
