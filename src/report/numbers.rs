//! How numbers read in every human format: returns in percent, excess in percentage points,
//! both rounded to whole basis points the same way the rating rule rounds, so a printed
//! `+10.00 pp` and the label 看好 never disagree.

use chrono::NaiveDate;

use crate::catalog::to_basis_points;

/// `+12.34` from whole basis points; zero has no sign.
fn signed_hundredths(bp: i64) -> String {
    let sign = match bp.signum() {
        1 => "+",
        -1 => "-",
        _ => "",
    };
    let magnitude = bp.unsigned_abs();
    format!("{sign}{}.{:02}", magnitude / 100, magnitude % 100)
}

/// A return (fraction) as `+12.34 %`.
pub fn percent(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "n/a".to_string();
    }
    format!("{} %", signed_hundredths(to_basis_points(fraction)))
}

/// An excess (fraction) as `+12.34 pp`.
pub fn points(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "n/a".to_string();
    }
    format!("{} pp", signed_hundredths(to_basis_points(fraction)))
}

/// Basis points as a distance without a sign, `8.27 pp`.
pub fn unsigned_points(bp: i64) -> String {
    let magnitude = bp.unsigned_abs();
    format!("{}.{:02} pp", magnitude / 100, magnitude % 100)
}

/// Basis points as `+10 pp`, for the rule's thresholds.
pub fn threshold(bp: i64) -> String {
    if bp % 100 == 0 { format!("{:+} pp", bp / 100) } else { format!("{} pp", signed_hundredths(bp)) }
}

/// A price: two decimals, three below 10 so that small HK quotes keep their precision.
pub fn close(value: f64) -> String {
    if !value.is_finite() {
        "n/a".to_string()
    } else if value.abs() < 10.0 {
        format!("{value:.3}")
    } else {
        format!("{value:.2}")
    }
}

/// An excess with the date it was reached, or a dash when the path is empty.
pub fn points_on(excess: Option<f64>, date: Option<NaiveDate>) -> String {
    match (excess, date) {
        (Some(excess), Some(date)) => format!("{} ({date})", points(excess)),
        (Some(excess), None) => points(excess),
        _ => "–".to_string(),
    }
}

/// A fraction for CSV: six decimals (a hundredth of a basis point) is more than any reader
/// needs and keeps the file diffable.
pub fn csv_fraction(value: f64) -> String {
    if value.is_finite() { format!("{value:.6}") } else { String::new() }
}

/// A whole percentage for shares of counts, `50 %`.
pub fn share(numerator: usize, denominator: usize) -> String {
    if denominator == 0 {
        return "n/a".to_string();
    }
    format!("{:.0} %", numerator as f64 * 100.0 / denominator as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    // 0.1234 = 1234 bp.
    #[case(0.1234, "+12.34 %")]
    // -0.05 = -500 bp.
    #[case(-0.05, "-5.00 %")]
    // 0.1 - 0.2 = -0.1 in floating point is -0.1000000000000000055…: still -1000 bp.
    #[case(0.1 - 0.2, "-10.00 %")]
    // 0.00004 rounds to 0 bp: no sign.
    #[case(0.00004, "0.00 %")]
    // 0.000051 is 0.51 bp: rounds to 1 bp.
    #[case(0.000051, "+0.01 %")]
    // -0.00996 is -99.6 bp: rounds to -100 bp.
    #[case(-0.00996, "-1.00 %")]
    #[case(f64::NAN, "n/a")]
    fn percents(#[case] fraction: f64, #[case] expected: &str) {
        assert_eq!(percent(fraction), expected);
    }

    #[test]
    fn points_and_thresholds() {
        // 0.30 - 0.20 is 0.09999999999999998 in floating point: 1000 bp, printed +10.00 pp.
        assert_eq!(points(0.30 - 0.20), "+10.00 pp");
        assert_eq!(threshold(1000), "+10 pp");
        assert_eq!(threshold(-1000), "-10 pp");
        assert_eq!(threshold(750), "+7.50 pp");
    }

    #[test]
    fn closes_and_shares() {
        assert_eq!(close(4134.6), "4134.60");
        assert_eq!(close(2.0512), "2.051");
        assert_eq!(share(1, 2), "50 %");
        // 2/3 = 66.67 % rounds to 67 %.
        assert_eq!(share(2, 3), "67 %");
        assert_eq!(share(0, 0), "n/a");
        assert_eq!(points_on(None, None), "–");
    }
}
