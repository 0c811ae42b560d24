//! A dated series of closes (or FX rates) with as-of lookups.
//!
//! Markets keep different holidays, so the analysis never asks "the close on D" but "the
//! latest close on or before D" ([`Series::as_of`]): a binary search, never a scan.

use chrono::NaiveDate;

/// One dated value: an adjusted close, an index level or an FX rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub date: NaiveDate,
    pub value: f64,
}

/// Values by date, oldest first, one per date. Values are positive and finite: the store
/// only keeps bars that passed [`crate::prices::validate_series`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    dates: Vec<NaiveDate>,
    values: Vec<f64>,
}

impl Series {
    /// A series without points (a symbol with no stored prices).
    pub const fn empty() -> Series {
        Series { dates: Vec::new(), values: Vec::new() }
    }

    /// Builds a series from points in any order; for a date given twice the later point wins.
    pub fn new(mut points: Vec<(NaiveDate, f64)>) -> Series {
        // A stable sort keeps duplicates in input order, so keeping the last of each run
        // keeps the later point.
        points.sort_by_key(|&(date, _)| date);
        let mut dates: Vec<NaiveDate> = Vec::with_capacity(points.len());
        let mut values: Vec<f64> = Vec::with_capacity(points.len());
        for (date, value) in points {
            if dates.last() == Some(&date) {
                if let Some(last) = values.last_mut() {
                    *last = value;
                }
            } else {
                dates.push(date);
                values.push(value);
            }
        }
        Series { dates, values }
    }

    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    pub fn len(&self) -> usize {
        self.dates.len()
    }

    pub fn first(&self) -> Option<Point> {
        self.point(0)
    }

    pub fn last(&self) -> Option<Point> {
        self.dates.len().checked_sub(1).and_then(|index| self.point(index))
    }

    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    /// The latest point on or before `date`.
    pub fn as_of(&self, date: NaiveDate) -> Option<Point> {
        let after = self.dates.partition_point(|d| *d <= date);
        after.checked_sub(1).and_then(|index| self.point(index))
    }

    /// The dates `d` with `after < d <= until`, oldest first.
    pub fn dates_between(&self, after: NaiveDate, until: NaiveDate) -> &[NaiveDate] {
        let start = self.dates.partition_point(|d| *d <= after);
        let end = self.dates.partition_point(|d| *d <= until).max(start);
        &self.dates[start..end]
    }

    fn point(&self, index: usize) -> Option<Point> {
        Some(Point { date: *self.dates.get(index)?, value: *self.values.get(index)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, month, day).unwrap()
    }

    #[test]
    fn as_of_takes_the_latest_point_on_or_before_the_date() {
        // Given out of order, with 2-15 twice: the later 2-15 (11.5) wins.
        let series = Series::new(vec![(d(2, 15), 11.0), (d(2, 13), 10.0), (d(2, 17), 12.0), (d(2, 15), 11.5)]);
        assert_eq!(series.len(), 3);
        assert_eq!(series.as_of(d(2, 12)), None, "nothing before the first point");
        assert_eq!(series.as_of(d(2, 13)), Some(Point { date: d(2, 13), value: 10.0 }), "on the date itself");
        assert_eq!(series.as_of(d(2, 16)), Some(Point { date: d(2, 15), value: 11.5 }), "a gap takes the day before");
        assert_eq!(series.as_of(d(3, 1)), Some(Point { date: d(2, 17), value: 12.0 }), "after the last point");
    }

    #[test]
    fn dates_between_excludes_the_start_and_includes_the_end() {
        let series = Series::new(vec![(d(2, 13), 1.0), (d(2, 14), 1.0), (d(2, 15), 1.0), (d(2, 17), 1.0)]);
        assert_eq!(series.dates_between(d(2, 13), d(2, 15)), &[d(2, 14), d(2, 15)]);
        assert_eq!(series.dates_between(d(2, 15), d(2, 16)), &[] as &[NaiveDate]);
        assert_eq!(series.dates_between(d(2, 16), d(2, 1)), &[] as &[NaiveDate], "an empty window, not a panic");
        assert_eq!(series.dates_between(d(1, 1), d(12, 31)).len(), 4);
    }
}
