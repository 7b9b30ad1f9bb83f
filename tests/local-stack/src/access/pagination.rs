//! `maxResults`/`nextToken` paging of the list calls. The token is the key of the first item not
//! yet returned, so a page stays right when items before it are deleted between calls.

use super::error::AccessError;
use super::route::Page;

/// EKS's bounds for `maxResults` on these calls, and its default.
const MAX_RESULTS: usize = 100;

/// One page of `items` (sorted by `key`) and the token of the next, if any.
pub(crate) fn paginate<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> &str,
    page: &Page,
) -> Result<(Vec<T>, Option<String>), AccessError> {
    let limit = match &page.max_results {
        None => MAX_RESULTS,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_RESULTS).contains(n))
            .ok_or_else(|| {
                AccessError::InvalidParameter(format!("maxResults must be between 1 and {MAX_RESULTS}, got {text}"))
            })?,
    };
    let start = match &page.next_token {
        Some(token) => items.partition_point(|item| key(item) < token.as_str()),
        None => 0,
    };
    let mut rest = items.into_iter().skip(start);
    let taken: Vec<T> = rest.by_ref().take(limit).collect();
    let next = rest.next().map(|item| key(&item).to_string());
    Ok((taken, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(max: Option<&str>, token: Option<&str>) -> Page {
        Page {
            max_results: max.map(str::to_string),
            next_token: token.map(str::to_string),
        }
    }

    #[test]
    fn pages_follow_their_tokens() {
        let items = vec!["a", "b", "c"];
        let (first, next) = paginate(items.clone(), |s| s, &page(Some("2"), None)).unwrap();
        assert_eq!((first, next.as_deref()), (vec!["a", "b"], Some("c")));
        let (second, next) = paginate(items.clone(), |s| s, &page(Some("2"), Some("c"))).unwrap();
        assert_eq!((second, next), (vec!["c"], None));
        // "b" was deleted meanwhile: the page still starts where it was.
        let (after, _) = paginate(vec!["a", "c"], |s| s, &page(None, Some("b"))).unwrap();
        assert_eq!(after, vec!["c"]);
    }

    #[test]
    fn max_results_is_bounded() {
        for bad in ["0", "101", "x"] {
            assert!(paginate(vec!["a"], |s| s, &page(Some(bad), None)).is_err(), "{bad}");
        }
    }
}
