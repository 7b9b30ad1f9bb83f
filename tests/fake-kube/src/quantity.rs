//! Kubernetes resource quantities (`5Gi`, `100M`, `1.5Ti`, `500m`, `1e3`) as a number of units.

/// The value of `quantity` (bytes for storage), or `None` when it is not a quantity.
pub fn parse(quantity: &str) -> Option<f64> {
    const SUFFIXES: [(&str, f64); 13] = [
        ("Ki", 1024.0),
        ("Mi", 1024.0 * 1024.0),
        ("Gi", 1024.0 * 1024.0 * 1024.0),
        ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("Pi", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("Ei", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let quantity = quantity.trim();
    let (number, multiplier) = SUFFIXES
        .iter()
        .find_map(|(suffix, multiplier)| quantity.strip_suffix(suffix).map(|n| (n, *multiplier)))
        .unwrap_or((quantity, 1.0));
    let well_formed = !number.is_empty()
        && number
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E'));
    if !well_formed {
        return None;
    }
    number
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n * multiplier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_decimal_and_plain_quantities() {
        assert_eq!(parse("5Gi"), Some(5.0 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(parse("100M"), Some(1e8));
        assert_eq!(parse("1.5Ki"), Some(1536.0));
        assert_eq!(parse("500m"), Some(0.5));
        assert_eq!(parse("1e3"), Some(1000.0));
        assert_eq!(parse("42"), Some(42.0));
        assert_eq!(parse("5GB"), None);
        assert_eq!(parse("Gi"), None);
        assert_eq!(parse("-1Gi"), None);
    }
}
