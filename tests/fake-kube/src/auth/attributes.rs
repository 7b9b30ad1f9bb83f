//! What a REST request asks the authorizer (the API server's `RequestInfo`): the verb from the
//! method and the path, the resource and subresource, the namespace and the object's name.

use http::Method;

use crate::api::path::{AUTHORIZATION_GROUP, Route};
use crate::auth::rules::Attributes;
use crate::kind::Kind;

/// The attributes of a resource request; `None` for discovery and health routes (any
/// authenticated user may read those, as `system:discovery` allows) and for methods that no
/// route serves (they fail with 405 and touch nothing).
pub fn of_request(method: &Method, route: &Route, watch: bool) -> Option<Attributes> {
    match route {
        Route::Collection { kind, namespace } => {
            let verb = match *method {
                Method::GET if watch => "watch",
                Method::GET => "list",
                Method::POST => "create",
                Method::PUT => "update",
                Method::PATCH => "patch",
                Method::DELETE => "deletecollection",
                _ => return None,
            };
            Some(attributes(
                verb,
                *kind,
                "",
                namespace.as_deref().unwrap_or_default(),
                "",
            ))
        }
        Route::Object {
            kind,
            namespace,
            name,
            subresource,
        } => {
            let verb = match *method {
                Method::GET if watch => "watch",
                Method::GET => "get",
                Method::POST => "create",
                Method::PUT => "update",
                Method::PATCH => "patch",
                Method::DELETE => "delete",
                _ => return None,
            };
            let subresource = subresource.as_ref().map(|s| s.as_str()).unwrap_or_default();
            // A namespace is addressed inside itself: a RoleBinding in `poc` may grant `get` on
            // the namespace `poc`.
            let namespace = if *kind == Kind::Namespace { name } else { namespace };
            Some(attributes(verb, *kind, subresource, namespace, name))
        }
        Route::SubjectAccessReview if *method == Method::POST => Some(Attributes {
            verb: "create",
            group: AUTHORIZATION_GROUP,
            resource: "subjectaccessreviews",
            subresource: "",
            namespace: String::new(),
            name: String::new(),
        }),
        _ => None,
    }
}

/// A request for `verb` on `kind` (and `subresource`) in `namespace`, on object `name`.
pub fn attributes(
    verb: &'static str,
    kind: Kind,
    subresource: &'static str,
    namespace: &str,
    name: &str,
) -> Attributes {
    Attributes {
        verb,
        group: kind.group(),
        resource: kind.plural(),
        subresource,
        namespace: namespace.to_string(),
        name: name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(method: Method, path: &str, watch: bool) -> Option<(&'static str, String, String, String)> {
        let route = Route::parse(path).unwrap();
        of_request(&method, &route, watch).map(|a| (a.verb, a.full_resource(), a.namespace, a.name))
    }

    fn expect(
        verb: &'static str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Option<(&'static str, String, String, String)> {
        Some((verb, resource.into(), namespace.into(), name.into()))
    }

    #[test]
    fn methods_and_paths_map_to_verbs_like_the_api_server() {
        let pods = "/api/v1/namespaces/ns/pods";
        assert_eq!(of(Method::GET, pods, false), expect("list", "pods", "ns", ""));
        assert_eq!(of(Method::GET, pods, true), expect("watch", "pods", "ns", ""));
        assert_eq!(of(Method::POST, pods, false), expect("create", "pods", "ns", ""));
        assert_eq!(
            of(Method::DELETE, pods, false),
            expect("deletecollection", "pods", "ns", "")
        );
        let web = "/api/v1/namespaces/ns/pods/web";
        assert_eq!(of(Method::GET, web, false), expect("get", "pods", "ns", "web"));
        assert_eq!(of(Method::PUT, web, false), expect("update", "pods", "ns", "web"));
        assert_eq!(of(Method::PATCH, web, false), expect("patch", "pods", "ns", "web"));
        assert_eq!(of(Method::DELETE, web, false), expect("delete", "pods", "ns", "web"));
        assert_eq!(
            of(Method::GET, "/api/v1/namespaces/ns/pods/web/log", false),
            expect("get", "pods/log", "ns", "web")
        );
        assert_eq!(
            of(Method::POST, "/api/v1/namespaces/ns/pods/web/exec", false),
            expect("create", "pods/exec", "ns", "web")
        );
        assert_eq!(
            of(Method::GET, "/api/v1/namespaces/poc", false),
            expect("get", "namespaces", "poc", "poc")
        );
        assert_eq!(
            of(Method::POST, "/api/v1/namespaces", false),
            expect("create", "namespaces", "", "")
        );
        assert_eq!(of(Method::GET, "/api/v1", false), None);
        assert_eq!(of(Method::OPTIONS, web, false), None);
    }
}
