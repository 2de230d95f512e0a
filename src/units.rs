//! Quantities as people read them. A leaf: every layer may use it, it uses nothing of the crate.

/// Bytes as people read them: `8.1 GB`, `700 MB`, `12 KB` (decimal units, like file managers and
/// the *arrs show them).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    if value < 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_like_a_file_manager() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(999), "999 B");
        assert_eq!(format_bytes(1_500), "1.5 KB");
        assert_eq!(format_bytes(700_000_000), "700 MB");
        assert_eq!(format_bytes(8_100_000_000), "8.1 GB");
        assert_eq!(format_bytes(12_345_000_000_000), "12 TB");
    }
}
