//! ISO weeks: which calendar dates a weekly summary covers.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// One ISO week and the calendar date the summary is measured to (`cutoff`): the week's
/// Friday, or an earlier date when a summary is asked "as of" a day inside the week. The
/// summary itself is then taken as of the latest benchmark trading day on or before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeekSpec {
    pub iso_year: i32,
    pub week: u32,
    pub cutoff: NaiveDate,
}

impl WeekSpec {
    /// The ISO week `year`-W`week` measured to its Friday, or `None` when the year has no
    /// such week (week 0, week 54, or week 53 of a 52-week year).
    pub fn iso(iso_year: i32, week: u32) -> Option<WeekSpec> {
        let friday = NaiveDate::from_isoywd_opt(iso_year, week, Weekday::Fri)?;
        Some(WeekSpec { iso_year, week, cutoff: friday })
    }

    /// The ISO week containing `date`, measured to `date` itself.
    pub fn containing(date: NaiveDate) -> WeekSpec {
        let iso = date.iso_week();
        WeekSpec { iso_year: iso.year(), week: iso.week(), cutoff: date }
    }

    /// The latest complete week before `today`: the ISO week of the latest Friday strictly
    /// before `today`. On a Friday that is last week, because the day's close (and the
    /// service's weekly job at 18:00) may not have happened yet; from Saturday on it is the
    /// week just ended.
    pub fn latest_complete(today: NaiveDate) -> WeekSpec {
        // Days back to the previous Friday: Sat 1, Sun 2, Mon 3, …, Thu 6, Fri 7.
        let days_back = (today.weekday().num_days_from_monday() + 2) % 7 + 1;
        let friday = today - Days::new(u64::from(days_back));
        let iso = friday.iso_week();
        WeekSpec { iso_year: iso.year(), week: iso.week(), cutoff: friday }
    }

    pub fn monday(&self) -> NaiveDate {
        self.weekday(Weekday::Mon)
    }

    pub fn friday(&self) -> NaiveDate {
        self.weekday(Weekday::Fri)
    }

    /// The Friday of the week before: the previous summary's cutoff.
    pub fn previous_friday(&self) -> NaiveDate {
        self.friday() - Days::new(7)
    }

    /// `2023-W20`.
    pub fn label(&self) -> String {
        format!("{}-W{:02}", self.iso_year, self.week)
    }

    fn weekday(&self, weekday: Weekday) -> NaiveDate {
        // Both constructors produce valid weeks; the cutoff's own date is a safe fallback.
        NaiveDate::from_isoywd_opt(self.iso_year, self.week, weekday).unwrap_or(self.cutoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn iso_week_runs_monday_to_friday() {
        // 2023-W20: Monday 2023-05-15 to Friday 2023-05-19 (2023-01-02 is Monday of W01,
        // so W20 starts 19 weeks = 133 days later, on 05-15).
        let week = WeekSpec::iso(2023, 20).unwrap();
        assert_eq!((week.monday(), week.friday(), week.cutoff), (d(2023, 5, 15), d(2023, 5, 19), d(2023, 5, 19)));
        assert_eq!(week.previous_friday(), d(2023, 5, 12));
        assert_eq!(week.label(), "2023-W20");
        assert_eq!(WeekSpec::iso(2023, 7).unwrap().label(), "2023-W07");
    }

    #[test]
    fn weeks_that_do_not_exist() {
        assert_eq!(WeekSpec::iso(2023, 0), None);
        assert_eq!(WeekSpec::iso(2023, 53), None, "2023 has 52 ISO weeks");
        assert!(WeekSpec::iso(2020, 53).is_some(), "2020 has 53 ISO weeks");
        assert_eq!(WeekSpec::iso(2020, 54), None);
    }

    #[test]
    fn week_containing_a_date_across_a_year_boundary() {
        // 2021-01-01 is a Friday in ISO week 2020-W53.
        let week = WeekSpec::containing(d(2021, 1, 1));
        assert_eq!((week.iso_year, week.week, week.cutoff), (2020, 53, d(2021, 1, 1)));
        assert_eq!(week.monday(), d(2020, 12, 28));
    }

    #[test]
    fn latest_complete_week_is_the_week_of_the_last_friday_before_today() {
        // Saturday 2023-05-20: the week that just ended, W20.
        assert_eq!(WeekSpec::latest_complete(d(2023, 5, 20)).label(), "2023-W20");
        // Friday 2023-05-19 itself: W19, the Friday before.
        let on_friday = WeekSpec::latest_complete(d(2023, 5, 19));
        assert_eq!((on_friday.label(), on_friday.cutoff), ("2023-W19".to_string(), d(2023, 5, 12)));
        // Monday 2023-05-22 and Thursday 2023-05-25: still W20.
        assert_eq!(WeekSpec::latest_complete(d(2023, 5, 22)).cutoff, d(2023, 5, 19));
        assert_eq!(WeekSpec::latest_complete(d(2023, 5, 25)).cutoff, d(2023, 5, 19));
        // Sunday 2023-01-01: Friday 2022-12-30, ISO week 2022-W52.
        assert_eq!(WeekSpec::latest_complete(d(2023, 1, 1)).label(), "2022-W52");
    }
}
