//! When a sector's implied rating has really changed: the anti-flap rule. Pure.
//!
//! The rule: walking the daily excess path from the report date, the implied rating starts
//! at the band of a zero excess (the report date itself). A different band becomes the
//! current one only after it has held for `confirm_closes` consecutive closes; a close back
//! in the current band resets the count. The change is dated by its first close and
//! announced on the close that confirms it. On the real 2023 prices, 芯片算力 crossed +10 pp
//! on 2023-03-20, fell back on 03-21 and crossed again on 03-22: with the default of 2
//! closes that is one change (中性 → 看好, from 03-22, confirmed 03-23), not three.

use chrono::NaiveDate;
use serde::Serialize;

use crate::analysis::model::PathPoint;
use crate::catalog::{Rating, RatingRule};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BandChange {
    pub from: Rating,
    pub to: Rating,
    /// The first close in the new band.
    pub since: NaiveDate,
    pub excess_since: f64,
    /// The close on which the new band had held `confirm_closes` closes.
    pub confirmed: NaiveDate,
    pub excess_confirmed: f64,
}

/// Every confirmed band change along `path`, oldest first. Points without a finite excess
/// (no priced member that day) are skipped.
pub fn band_changes(path: &[PathPoint], rule: &RatingRule, confirm_closes: usize) -> Vec<BandChange> {
    let confirm_closes = confirm_closes.max(1);
    let mut current = rule.implied(0.0);
    let mut candidate: Option<(Rating, PathPoint, usize)> = None;
    let mut changes = Vec::new();
    for point in path.iter().filter(|p| p.excess.is_finite()) {
        let band = rule.implied(point.excess);
        if band == current {
            candidate = None;
            continue;
        }
        let (first, count) = match candidate {
            Some((rating, first, count)) if rating == band => (first, count + 1),
            _ => (*point, 1),
        };
        if count >= confirm_closes {
            changes.push(BandChange {
                from: current,
                to: band,
                since: first.date,
                excess_since: first.excess,
                confirmed: point.date,
                excess_confirmed: point.excess,
            });
            current = band;
            candidate = None;
        } else {
            candidate = Some((band, first, count));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Label;
    use crate::symbol::Symbol;

    const OVERWEIGHT: Rating = Rating(0);
    const NEUTRAL: Rating = Rating(1);

    /// The seed report's rule: ±10 pp, 看好 / 中性 / 看淡.
    fn rule() -> RatingRule {
        let labels = [Label::new("看好", "overweight"), Label::new("中性", "neutral"), Label::new("看淡", "underweight")];
        RatingRule::three_tier(Symbol::parse("000300.SH").unwrap(), "沪深300", 6, 1000, -1000, labels)
    }

    fn path(points: &[(u32, u32, f64)]) -> Vec<PathPoint> {
        points
            .iter()
            .map(|&(month, day, pp)| PathPoint { date: NaiveDate::from_ymd_opt(2023, month, day).unwrap(), excess: pp / 100.0 })
            .collect()
    }

    #[test]
    fn a_one_day_crossing_is_not_announced_and_a_held_one_is_once() {
        // The shape of 芯片算力 in March 2023: over +10 pp on 03-20, back under on 03-21,
        // over again from 03-22.
        let path = path(&[(3, 17, 8.0), (3, 20, 10.4), (3, 21, 9.6), (3, 22, 11.0), (3, 23, 12.5), (3, 24, 10.1)]);
        let changes = band_changes(&path, &rule(), 2);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!((changes[0].from, changes[0].to), (NEUTRAL, OVERWEIGHT));
        assert_eq!(changes[0].since, NaiveDate::from_ymd_opt(2023, 3, 22).unwrap());
        assert_eq!(changes[0].confirmed, NaiveDate::from_ymd_opt(2023, 3, 23).unwrap());
        // Without the rule every crossing would be news: up, down, up.
        let flapping = band_changes(&path, &rule(), 1);
        assert_eq!(flapping.iter().map(|c| c.to).collect::<Vec<_>>(), [OVERWEIGHT, NEUTRAL, OVERWEIGHT]);
    }

    #[test]
    fn a_fall_back_to_neutral_is_announced_when_it_holds() {
        // 深度学习大模型: 看好 in early April, +7.54 pp on 04-17 and below +10 pp after.
        let path = path(&[(4, 3, 12.0), (4, 4, 13.0), (4, 14, 10.5), (4, 17, 7.54), (4, 18, 6.0), (4, 19, 11.0), (4, 20, 5.0)]);
        let changes = band_changes(&path, &rule(), 2);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!((changes[1].from, changes[1].to), (OVERWEIGHT, NEUTRAL));
        assert_eq!(changes[1].since, NaiveDate::from_ymd_opt(2023, 4, 17).unwrap());
        assert!((changes[1].excess_since - 0.0754).abs() < 1e-12);
    }

    #[test]
    fn no_finite_excess_no_change() {
        let path = path(&[(3, 1, f64::NAN), (3, 2, f64::NAN)]);
        assert!(band_changes(&path, &rule(), 1).is_empty());
    }
}
