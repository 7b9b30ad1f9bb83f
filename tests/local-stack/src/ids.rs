//! Random UUID-shaped ids: what AWS puts in access-entry ARNs, update and request ids, event ids and
//! the names of the executions EventBridge starts.

/// A random UUID-shaped id (version bits not set: nothing here parses them).
pub(crate) fn uuid() -> String {
    let hex = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
