//! The calendar dates a weekly summary covers: an ISO [`Week`] and the date it is measured to.

use chrono::NaiveDate;

use crate::ids::Week;

/// One ISO week and the calendar date the summary is measured to (`cutoff`): the week's
/// Friday, or an earlier date when a summary is asked "as of" a day inside the week. The
/// summary itself is then taken as of the latest benchmark trading day on or before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeekSpec {
    pub week: Week,
    pub cutoff: NaiveDate,
}

impl WeekSpec {
    /// `week` measured to its Friday.
    pub fn of(week: Week) -> WeekSpec {
        WeekSpec { week, cutoff: week.friday() }
    }

    /// The ISO week `year`-W`week` measured to its Friday, or `None` when the year has no
    /// such week.
    pub fn iso(year: i32, week: u32) -> Option<WeekSpec> {
        Week::new(year, week).map(WeekSpec::of)
    }

    /// The ISO week containing `date`, measured to `date` itself.
    pub fn containing(date: NaiveDate) -> WeekSpec {
        WeekSpec { week: Week::containing(date), cutoff: date }
    }

    /// The latest complete week on `today` ([`Week::latest_complete`]), measured to its Friday.
    pub fn latest_complete(today: NaiveDate) -> WeekSpec {
        WeekSpec::of(Week::latest_complete(today))
    }

    pub fn monday(&self) -> NaiveDate {
        self.week.monday()
    }

    pub fn friday(&self) -> NaiveDate {
        self.week.friday()
    }

    /// The Friday of the week before: the previous summary's cutoff.
    pub fn previous_friday(&self) -> NaiveDate {
        self.week.previous().friday()
    }

    /// `2023-W20`.
    pub fn label(&self) -> String {
        self.week.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn a_week_is_measured_to_its_friday() {
        // 2023-W20: Monday 2023-05-15 to Friday 2023-05-19.
        let week = WeekSpec::iso(2023, 20).unwrap();
        assert_eq!((week.monday(), week.friday(), week.cutoff), (d(2023, 5, 15), d(2023, 5, 19), d(2023, 5, 19)));
        assert_eq!(week.previous_friday(), d(2023, 5, 12));
        assert_eq!(week.label(), "2023-W20");
        assert_eq!(WeekSpec::iso(2023, 53), None, "2023 has 52 ISO weeks");
    }

    #[test]
    fn week_containing_a_date_across_a_year_boundary() {
        // 2021-01-01 is a Friday in ISO week 2020-W53.
        let week = WeekSpec::containing(d(2021, 1, 1));
        assert_eq!((week.label(), week.cutoff), ("2020-W53".to_string(), d(2021, 1, 1)));
        assert_eq!(week.monday(), d(2020, 12, 28));
    }

    #[test]
    fn the_latest_complete_week_is_measured_to_its_friday() {
        // Friday 2023-05-19 itself: its own week, W20, to that Friday (see `Week::latest_complete`).
        let on_friday = WeekSpec::latest_complete(d(2023, 5, 19));
        assert_eq!((on_friday.label(), on_friday.cutoff), ("2023-W20".to_string(), d(2023, 5, 19)));
        // Thursday 2023-05-25: still W20.
        assert_eq!(WeekSpec::latest_complete(d(2023, 5, 25)).cutoff, d(2023, 5, 19));
    }
}
