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
        // Points read from the store come in order: checking is cheaper than sorting.
        if !points.is_sorted_by_key(|&(date, _)| date) {
            points.sort_by_key(|&(date, _)| date);
        }
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

    /// Builds a series from dates and values in step (`values[i]` on `dates[i]`), as the
    /// store reads them: kept as they are when the dates are strictly ascending and the
    /// lengths agree, else put in order as [`Series::new`] does.
    pub fn from_columns(dates: Vec<NaiveDate>, values: Vec<f64>) -> Series {
        if dates.len() == values.len() && dates.windows(2).all(|pair| pair[0] < pair[1]) {
            Series { dates, values }
        } else {
            Series::new(dates.into_iter().zip(values).collect())
        }
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

    /// [`Series::as_of`] of each of `dates`, in order. For dates in ascending order (a path's
    /// dates) this is one walk along the series instead of a search per date; a date before
    /// the one asked before it is searched for.
    pub fn as_of_each<'s>(&'s self, dates: &'s [NaiveDate]) -> impl Iterator<Item = Option<Point>> + 's {
        // `after`: how many points are on or before the date asked last.
        let mut after = 0;
        let mut previous: Option<NaiveDate> = None;
        dates.iter().map(move |&date| {
            if previous.is_some_and(|previous| date < previous) {
                after = self.dates.partition_point(|d| *d <= date);
            } else {
                while self.dates.get(after).is_some_and(|d| *d <= date) {
                    after += 1;
                }
            }
            previous = Some(date);
            after.checked_sub(1).and_then(|index| self.point(index))
        })
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
    fn columns_in_order_are_kept_and_others_are_put_in_order() {
        let (dates, values) = (vec![d(2, 13), d(2, 15)], vec![10.0, 11.0]);
        assert_eq!(Series::from_columns(dates.clone(), values.clone()), Series { dates, values });
        let shuffled = Series::from_columns(vec![d(2, 15), d(2, 13), d(2, 15)], vec![11.0, 10.0, 11.5]);
        assert_eq!(shuffled, Series::new(vec![(d(2, 15), 11.0), (d(2, 13), 10.0), (d(2, 15), 11.5)]));
        assert_eq!(shuffled.as_of(d(2, 16)), Some(Point { date: d(2, 15), value: 11.5 }));
    }

    #[test]
    fn as_of_each_answers_as_as_of_does_in_any_order() {
        let series = Series::new(vec![(d(2, 13), 10.0), (d(2, 15), 11.0), (d(2, 17), 12.0)]);
        // Ascending with repeats and gaps, then back in time, then forward again.
        let asked = [d(2, 1), d(2, 13), d(2, 13), d(2, 14), d(2, 16), d(3, 1), d(2, 14), d(2, 12), d(2, 15), d(2, 17)];
        let each: Vec<Option<Point>> = series.as_of_each(&asked).collect();
        let one_by_one: Vec<Option<Point>> = asked.iter().map(|&date| series.as_of(date)).collect();
        assert_eq!(each, one_by_one);
        assert_eq!(each[4], Some(Point { date: d(2, 15), value: 11.0 }), "2-16 takes 2-15");
        assert_eq!(Series::empty().as_of_each(&asked).flatten().count(), 0);
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
