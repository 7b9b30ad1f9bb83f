//! The context keys every service supplies the same way: the request's tags, the resource's tags.

use std::collections::BTreeMap;

use serde_json::Value;

use super::evaluate::Request;

/// A resource's or request's tags.
pub(crate) type Tags = BTreeMap<String, String>;

/// A JSON string or list of strings as values; anything else as none.
pub(crate) fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// `aws:ResourceTag/<key>` for each of the resource's tags.
pub(crate) fn resource_tags(mut request: Request, tags: &Tags) -> Request {
    for (key, value) in tags {
        request = request.with(&format!("aws:ResourceTag/{key}"), [value.as_str()]);
    }
    request
}

/// `aws:RequestTag/<key>` for each tag of the request, and `aws:TagKeys`.
pub(crate) fn request_tags(mut request: Request, tags: &Tags) -> Request {
    for (key, value) in tags {
        request = request.with(&format!("aws:RequestTag/{key}"), [value.as_str()]);
    }
    request.with("aws:TagKeys", tags.keys())
}

/// Tags as a `[{"Key": .., "Value": ..}]` list (EFS, EC2), read into a map.
pub(crate) fn key_value_tags(list: &Value) -> Tags {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|tag| Some((tag["Key"].as_str()?.to_string(), tag["Value"].as_str()?.to_string())))
        .collect()
}

/// The text of the first `<name>` element of an XML answer.
pub(crate) fn xml_element(xml: &str, name: &str) -> Option<String> {
    let (_, rest) = xml.split_once(&format!("<{name}>"))?;
    let (value, _) = rest.split_once(&format!("</{name}>"))?;
    Some(value.to_string())
}

/// The tags in the first `<list>` element of an XML answer: each `<entry>` with a `<key>` (and
/// `<value>`) element, named as the service names them (EC2's `tagSet`/`item`/`key`/`value`,
/// IAM's `Tags`/`member`/`Key`/`Value`).
pub(crate) fn xml_tags(xml: &str, [list, entry, key, value]: [&str; 4]) -> Tags {
    let Some(list) = xml_element(xml, list) else {
        return Tags::new();
    };
    list.split(&format!("<{entry}>"))
        .filter_map(|item| Some((xml_element(item, key)?, xml_element(item, value).unwrap_or_default())))
        .collect()
}
