//! Reading and stamping `metadata` on stored objects (kept as JSON).

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher, RandomState};

use serde_json::{Value, json};

pub fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

pub fn namespace(object: &Value) -> &str {
    object["metadata"]["namespace"].as_str().unwrap_or_default()
}

pub fn uid(object: &Value) -> &str {
    object["metadata"]["uid"].as_str().unwrap_or_default()
}

pub fn labels(object: &Value) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Sets `metadata.<field>`, creating `metadata` when needed.
pub fn set(object: &mut Value, field: &str, value: impl Into<Value>) {
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    object["metadata"][field] = value.into();
}

/// A random RFC 4122 version-4 style id (not cryptographic: object uids only need to be unique).
pub fn new_uid() -> String {
    let high = random_u64();
    let low = random_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0x0fff,
        (low >> 48) & 0x3fff | 0x8000,
        low & 0xffff_ffff_ffff
    )
}

/// `n` lowercase alphanumerics, for `generateName` and event names.
pub fn random_suffix(n: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut bits = random_u64();
    (0..n)
        .map(|_| {
            let c = ALPHABET[(bits % ALPHABET.len() as u64) as usize] as char;
            bits /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

fn random_u64() -> u64 {
    RandomState::new().build_hasher().finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_look_like_uuids_and_differ() {
        let (a, b) = (new_uid(), new_uid());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
    }

    #[test]
    fn reads_metadata() {
        let object = json!({"metadata": {"name": "a", "namespace": "n", "labels": {"app": "x"}}});
        assert_eq!(name(&object), "a");
        assert_eq!(namespace(&object), "n");
        assert_eq!(labels(&object)["app"], "x");
        assert_eq!(uid(&object), "");
    }
}
