//! A PEM CA bundle, as both the cluster's DescribeCluster and the local stack's override give it.

/// The DER certificates of a PEM bundle (kube wants DER); an error names what is wrong with it.
pub fn ca_certificates(pem_bytes: &[u8]) -> std::result::Result<Vec<Vec<u8>>, String> {
    let blocks = pem::parse_many(pem_bytes).map_err(|e| format!("its CA is not PEM: {e}"))?;
    let certificates: Vec<Vec<u8>> = blocks
        .into_iter()
        .filter(|block| block.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect();
    if certificates.is_empty() {
        return Err("its CA bundle holds no certificate".into());
    }
    Ok(certificates)
}
