//! Small validated values, parsed once at the edge (command-line flags, config, report files)
//! and trusted everywhere after: [`ReportId`], [`Week`], [`Tz`] and [`ProviderName`], and
//! dates typed by users ([`parse_date`]).
//!
//! Invariants: a value of these types is always valid, so nothing downstream re-checks it;
//! each parses from and prints to exactly one text form (`FromStr`/`Display`, and the same
//! through serde), and a parse error says what was expected with an example.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::text::quote;

/// A value that did not parse; the message names the input and shows the expected form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(String);

/// Serializes through `Display` and deserializes through `FromStr`, so the text form in
/// config files, JSON and the database is the one the command line takes.
macro_rules! serde_via_str {
    ($type:ty) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A report's id, as in `data/reports/<id>.toml`: 1 to 80 lowercase ASCII letters, digits,
/// `-` and `_`, not starting with `-` (`zheshang-2023-02-14-chatgpt`). It is a file name and
/// a path segment of the weekly files, so it can never hold a separator or `..`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReportId(String);

impl ReportId {
    pub fn parse(text: &str) -> Result<ReportId, ParseError> {
        let ok = !text.is_empty()
            && text.len() <= 80
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
            && !text.starts_with('-');
        if ok {
            Ok(ReportId(text.to_string()))
        } else {
            Err(ParseError(format!(
                "report id `{}` must be 1 to 80 lowercase letters, digits, - and _ (example: \"zheshang-2023-02-14-chatgpt\")",
                quote(text)
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ReportId {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ReportId::parse(text)
    }
}

impl fmt::Display for ReportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for ReportId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ReportId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for ReportId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for ReportId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ReportId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

serde_via_str!(ReportId);

/// An ISO 8601 week (`2023-W20`: Monday 2023-05-15 to Sunday 2023-05-21). The week always
/// exists: week 53 only in the years that have one.
///
/// A weekly summary of a week is as of its Friday (or the latest trading day before it), so
/// a week counts as complete from its Friday on: [`Week::latest_complete`] is the one rule
/// for "which week is complete", used by the command line and the service alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Week {
    year: i32,
    number: u32,
}

impl Week {
    /// The ISO week `year`-W`number`, or `None` when that year has no such week (week 0,
    /// week 54, or week 53 of a 52-week year).
    pub fn new(year: i32, number: u32) -> Option<Week> {
        NaiveDate::from_isoywd_opt(year, number, Weekday::Mon).map(|_| Week { year, number })
    }

    /// The ISO week containing `date`.
    pub fn containing(date: NaiveDate) -> Week {
        let iso = date.iso_week();
        Week { year: iso.year(), number: iso.week() }
    }

    /// The latest complete week on `today`: the week of the latest Friday on or before
    /// `today`. On a Friday that is the current week (its summary is as of the latest
    /// trading day on or before that Friday); Monday to Thursday it is the week before.
    pub fn latest_complete(today: NaiveDate) -> Week {
        // Days back to the latest Friday: Fri 0, Sat 1, Sun 2, Mon 3, …, Thu 6.
        let days_back = (today.weekday().num_days_from_monday() + 3) % 7;
        Week::containing(today - Days::new(u64::from(days_back)))
    }

    /// The ISO week-numbering year (2020-W53 ends on 2021-01-03).
    pub fn year(self) -> i32 {
        self.year
    }

    /// The week number, 1 to 53.
    pub fn number(self) -> u32 {
        self.number
    }

    pub fn monday(self) -> NaiveDate {
        self.day(Weekday::Mon)
    }

    /// The day a weekly summary is as of.
    pub fn friday(self) -> NaiveDate {
        self.day(Weekday::Fri)
    }

    /// The week before this one.
    pub fn previous(self) -> Week {
        Week::containing(self.monday() - Days::new(7))
    }

    /// The first week whose Friday is on or after `date`: the first week a summary can be
    /// made for, for a report dated `date`.
    pub fn first_friday_on_or_after(date: NaiveDate) -> Week {
        let days_to_friday = (4 + 7 - date.weekday().num_days_from_monday()) % 7;
        Week::containing(date + Days::new(u64::from(days_to_friday)))
    }

    fn day(self, weekday: Weekday) -> NaiveDate {
        // Every `Week` is a valid ISO week (checked by each constructor).
        NaiveDate::from_isoywd_opt(self.year, self.number, weekday).unwrap_or_default()
    }
}

impl fmt::Display for Week {
    /// `2023-W07`: the label summaries are recorded and their files named by.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.number)
    }
}

impl FromStr for Week {
    type Err = ParseError;

    /// `2023-W20`, also `2023W20`, `2023-w20` and `2023-W5`; surrounding spaces are ignored.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError(format!("`{}` is not a week; expected the form 2023-W20", quote(input)));
        let (year, number) = input.trim().split_once(['W', 'w']).ok_or_else(bad)?;
        let year = year.strip_suffix('-').unwrap_or(year);
        let digits = |s: &str, max_len: usize| !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year, 4) || !digits(number, 2) {
            return Err(bad());
        }
        let (year, number) = (year.parse().map_err(|_| bad())?, number.parse().map_err(|_| bad())?);
        Week::new(year, number).ok_or_else(bad)
    }
}

/// `YYYY-MM-DD` from bytes without allocation or chrono's format parser: the one fast date
/// reader, for the hot paths (CSV import rows, the bulk reads of stored dates). Exactly ten
/// bytes; `None` for anything else, including dates that do not exist (`2023-02-30`).
pub fn parse_date_bytes(bytes: &[u8]) -> Option<NaiveDate> {
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        bytes[range].iter().try_fold(0u32, |acc, &b| b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0')))
    };
    NaiveDate::from_ymd_opt(i32::try_from(number(0..4)?).ok()?, number(5..7)?, number(8..10)?)
}

/// A date typed by a user (a command-line flag, a query parameter) in the one form the
/// product prints, `2023-05-19`; surrounding spaces are ignored. `shown` is how the caller
/// echoes the input in the error: [`quote`] on the command line, shorter and without control
/// characters on the web.
pub fn parse_date(text: &str, shown: impl FnOnce(&str) -> String) -> Result<NaiveDate, ParseError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| ParseError(format!("`{}` is not a date; expected the form 2023-05-19", shown(text))))
}

impl From<chrono::IsoWeek> for Week {
    fn from(iso: chrono::IsoWeek) -> Week {
        Week { year: iso.year(), number: iso.week() }
    }
}

serde_via_str!(Week);

/// An IANA time zone (`Asia/Shanghai`), checked when the config is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tz(chrono_tz::Tz);

impl Tz {
    pub const SHANGHAI: Tz = Tz(chrono_tz::Asia::Shanghai);

    /// The zone, for date arithmetic.
    pub fn zone(self) -> chrono_tz::Tz {
        self.0
    }

    /// The calendar date of `instant` in this zone.
    pub fn date_of(self, instant: chrono::DateTime<chrono::Utc>) -> NaiveDate {
        instant.with_timezone(&self.0).date_naive()
    }
}

impl FromStr for Tz {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse::<chrono_tz::Tz>()
            .map(Tz)
            .map_err(|_| ParseError(format!("`{}` is not an IANA time zone (example: \"Asia/Shanghai\")", quote(text))))
    }
}

impl fmt::Display for Tz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl From<chrono_tz::Tz> for Tz {
    fn from(zone: chrono_tz::Tz) -> Tz {
        Tz(zone)
    }
}

serde_via_str!(Tz);

/// A price provider, by its config name (`tencent`, `eastmoney`, `yahoo`). The names are
/// listed here once: config chains, the command line and the store all parse through this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
#[derive(strum::Display, strum::IntoStaticStr, strum::EnumString, strum::VariantNames, strum::EnumIter)]
#[strum(serialize_all = "lowercase", parse_err_ty = ParseError, parse_err_fn = unknown_provider)]
#[value(rename_all = "lowercase")]
pub enum ProviderName {
    Tencent,
    Eastmoney,
    Yahoo,
}

impl ProviderName {
    pub const ALL: [ProviderName; 3] = [ProviderName::Tencent, ProviderName::Eastmoney, ProviderName::Yahoo];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The provider of this config name, or `None`.
    pub fn parse(name: &str) -> Option<ProviderName> {
        name.parse().ok()
    }

    /// `tencent, eastmoney, yahoo`: the names, for messages.
    pub fn names() -> String {
        <ProviderName as strum::VariantNames>::VARIANTS.join(", ")
    }
}

fn unknown_provider(name: &str) -> ParseError {
    ParseError(format!("unknown provider `{}` (known: {})", quote(name), ProviderName::names()))
}

serde_via_str!(ProviderName);

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn d(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[rstest]
    #[case("zheshang-2023-02-14-chatgpt")]
    #[case("a")]
    #[case("r_2")]
    fn good_report_ids(#[case] text: &str) {
        assert_eq!(ReportId::parse(text).unwrap().as_str(), text);
    }

    #[rstest]
    #[case("")]
    #[case("-leading-dash")]
    #[case("Upper")]
    #[case("has space")]
    #[case("../escape")]
    #[case("ééé")]
    fn bad_report_ids_show_the_rule(#[case] text: &str) {
        let message = ReportId::parse(text).unwrap_err().to_string();
        assert!(message.contains(&format!("`{text}`")) && message.contains("zheshang-2023-02-14-chatgpt"), "{message}");
    }

    #[test]
    fn dates_parse_in_one_form_and_errors_show_the_input_as_the_caller_quotes_it() {
        assert_eq!(parse_date(" 2023-05-19 ", quote), Ok(d(2023, 5, 19)));
        assert_eq!(parse_date("2024-02-29", quote), Ok(d(2024, 2, 29)));
        for bad in ["2023-02-29", "2023-13-01", "19/05/2023", "20230519", "", "２０２３-05-19"] {
            assert_eq!(
                parse_date(bad, quote).unwrap_err().to_string(),
                format!("`{bad}` is not a date; expected the form 2023-05-19"),
                "{bad}"
            );
        }
        // The caller decides how the input is echoed.
        let error = parse_date("x\ny", |text| text.replace('\n', "")).unwrap_err();
        assert_eq!(error.to_string(), "`xy` is not a date; expected the form 2023-05-19");
    }

    #[test]
    fn every_provider_keeps_its_config_name() {
        use strum::IntoEnumIterator;
        // Config chains, `--provider`, `securities.adj_source` and `daily_bars.source`: never change.
        let names = ["tencent", "eastmoney", "yahoo"];
        assert_eq!(ProviderName::iter().collect::<Vec<_>>(), ProviderName::ALL);
        for (provider, name) in ProviderName::iter().zip(names) {
            assert_eq!((provider.as_str(), provider.to_string()), (name, name.to_string()));
            assert_eq!(name.parse::<ProviderName>(), Ok(provider));
            assert_eq!(<ProviderName as clap::ValueEnum>::from_str(name, false), Ok(provider));
            assert_eq!(serde_json::to_string(&provider).unwrap(), format!("\"{name}\""));
        }
        assert_eq!("Yahoo".parse::<ProviderName>().unwrap_err().to_string(), "unknown provider `Yahoo` (known: tencent, eastmoney, yahoo)");
    }

    #[test]
    fn a_report_id_of_81_characters_is_refused() {
        assert!(ReportId::parse(&"a".repeat(80)).is_ok());
        assert!(ReportId::parse(&"a".repeat(81)).is_err());
    }

    #[rstest]
    #[case("2023-W20", 2023, 20)]
    #[case("2023W20", 2023, 20)]
    #[case("2023-w20", 2023, 20)]
    #[case(" 2023-W05 ", 2023, 5)]
    #[case("2023-W5", 2023, 5)]
    #[case("2020-W53", 2020, 53)]
    fn good_weeks(#[case] input: &str, #[case] year: i32, #[case] number: u32) {
        let week: Week = input.parse().unwrap();
        assert_eq!((week.year(), week.number()), (year, number));
    }

    #[rstest]
    #[case("")]
    #[case("2023")]
    #[case("2023-20")]
    #[case("W20")]
    #[case("23-W20")]
    #[case("2023-W")]
    #[case("2023-W0")]
    #[case("2023-W53")] // 2023 has 52 ISO weeks
    #[case("2023-W123")]
    #[case("2023-W2x")]
    #[case("2023--W20")]
    #[case("2023-05-19")]
    #[case("２０２３-W20")]
    fn bad_weeks_show_the_expected_form(#[case] input: &str) {
        let message = input.parse::<Week>().unwrap_err().to_string();
        assert_eq!(message, format!("`{input}` is not a week; expected the form 2023-W20"));
    }

    #[test]
    fn a_week_runs_monday_to_friday_and_prints_its_label() {
        // 2023-01-02 is the Monday of 2023-W01, so W20 starts 19 weeks = 133 days later, 05-15.
        let week = Week::new(2023, 20).unwrap();
        assert_eq!((week.monday(), week.friday()), (d(2023, 5, 15), d(2023, 5, 19)));
        assert_eq!(week.previous(), Week::new(2023, 19).unwrap());
        assert_eq!(week.to_string(), "2023-W20");
        assert_eq!(Week::new(2023, 7).unwrap().to_string(), "2023-W07");
        // Across an ISO year boundary: 2021-01-01 is the Friday of 2020-W53.
        assert_eq!(Week::containing(d(2021, 1, 1)).to_string(), "2020-W53");
        assert_eq!(Week::new(2021, 1).unwrap().previous().to_string(), "2020-W53");
        assert_eq!(Week::new(2023, 53), None);
        assert_eq!(Week::new(2023, 0), None);
    }

    // The one "which week is complete" rule: the week of the latest Friday on or before the day.
    // 2023-05-19 is the Friday of 2023-W20.
    #[rstest]
    #[case::thursday_before(d(2023, 5, 18), "2023-W19")]
    #[case::the_friday_itself(d(2023, 5, 19), "2023-W20")]
    #[case::saturday(d(2023, 5, 20), "2023-W20")]
    #[case::sunday(d(2023, 5, 21), "2023-W20")]
    #[case::monday_after(d(2023, 5, 22), "2023-W20")]
    #[case::thursday_after(d(2023, 5, 25), "2023-W20")]
    #[case::next_friday(d(2023, 5, 26), "2023-W21")]
    // ISO years differ from calendar years at the edges: Sunday 2023-01-01 follows Friday
    // 2022-12-30 (2022-W52); Friday 2021-01-01 is in 2020-W53, and so is Monday 2021-01-04's
    // latest Friday.
    #[case::new_years_day_2023(d(2023, 1, 1), "2022-W52")]
    #[case::a_friday_in_the_previous_iso_year(d(2021, 1, 1), "2020-W53")]
    #[case::monday_after_it(d(2021, 1, 4), "2020-W53")]
    fn latest_complete_week(#[case] today: NaiveDate, #[case] expected: &str) {
        assert_eq!(Week::latest_complete(today).to_string(), expected);
    }

    #[rstest]
    // 2023-02-14 is a Tuesday: its week's Friday (02-17, W07) is the first summary.
    #[case(d(2023, 2, 14), "2023-W07")]
    #[case(d(2023, 2, 17), "2023-W07")]
    // A Saturday report: the next week's Friday.
    #[case(d(2023, 2, 18), "2023-W08")]
    fn first_week_with_a_summary(#[case] date: NaiveDate, #[case] expected: &str) {
        assert_eq!(Week::first_friday_on_or_after(date).to_string(), expected);
    }

    #[test]
    fn time_zones_parse_by_iana_name() {
        let zone: Tz = "America/New_York".parse().unwrap();
        assert_eq!(zone.to_string(), "America/New_York");
        // 03:00 UTC on 2023-05-20 is still the 19th in New York (UTC-4 in May).
        let instant = chrono::DateTime::parse_from_rfc3339("2023-05-20T03:00:00Z").unwrap().to_utc();
        assert_eq!(zone.date_of(instant), d(2023, 5, 19));
        let message = "Mars/Olympus".parse::<Tz>().unwrap_err().to_string();
        assert_eq!(message, "`Mars/Olympus` is not an IANA time zone (example: \"Asia/Shanghai\")");
    }

    #[test]
    fn provider_names_round_trip_and_unknown_ones_list_the_known() {
        for provider in ProviderName::ALL {
            assert_eq!(provider.as_str().parse::<ProviderName>().unwrap(), provider);
            assert_eq!(provider.to_string(), provider.as_str());
        }
        assert_eq!(ProviderName::Eastmoney.as_str(), "eastmoney");
        assert_eq!("stooq".parse::<ProviderName>().unwrap_err().to_string(), "unknown provider `stooq` (known: tencent, eastmoney, yahoo)");
    }

    #[test]
    fn serde_uses_the_same_text_as_the_command_line() {
        let json =
            serde_json::to_string(&(Week::new(2023, 7).unwrap(), ReportId::parse("seed").unwrap(), Tz::SHANGHAI, ProviderName::Yahoo))
                .unwrap();
        assert_eq!(json, r#"["2023-W07","seed","Asia/Shanghai","yahoo"]"#);
        let back: (Week, ReportId, Tz, ProviderName) = serde_json::from_str(&json).unwrap();
        assert_eq!(back.0.to_string(), "2023-W07");
        let err = serde_json::from_str::<Week>(r#""2023-W53""#).unwrap_err().to_string();
        assert!(err.contains("expected the form 2023-W20"), "{err}");
    }
}
