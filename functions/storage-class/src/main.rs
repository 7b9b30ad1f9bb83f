//! `storage-class` (epic03): `create` makes sure `CSIDriver efs.csi.aws.com` and StorageClass
//! `efs-sc` exist, creating (and labelling) only what is missing.

use efs_fargate_core::functions::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    efs_fargate_core::handler::serve(Function::StorageClass).await
}
