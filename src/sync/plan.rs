//! Deciding what to request: pure functions over a security's stored state and today's date.
//!
//! The rules, in order:
//! - A security needs nothing when its latest stored bar is at or after its market's latest
//!   completed session: the latest weekday whose session had closed at `now` (see
//!   [`super::calendar`]), or, on a holiday, the market's latest stored session when the
//!   security was already asked after the latest possible session closed. A re-run on the same
//!   evening, at a weekend or on a holiday therefore sends no request.
//! - Otherwise, a provider that produced the stored series (its `adj_source`) gets the short
//!   incremental window: from the last stored date minus `overlap_days` calendar days (so
//!   revised bars overwrite and a re-based adjusted series shows up in the overlap) to today.
//!   A second sync on the same day sends at most this one small request per security.
//! - Any other provider, the first sync, and `--full` get the full window: from the earlier of
//!   `history_start` and the first stored date (a switch never shrinks the stored history) to
//!   today, clamped to the listing date when it is known. The result replaces the stored
//!   series whole, so one adjusted series never mixes two vendors.

use chrono::{DateTime, Days, Months, NaiveDate, Utc};

use super::calendar::latest_possible_session;
use crate::prices::{AdjBasis, Bar};
use crate::providers::ProviderName;
use crate::store::SecurityState;
use crate::symbol::Symbol;

/// An inclusive range of dates to request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Whether a request covers the whole history (its answer replaces the stored series) or
/// only the recent overlap (its answer is upserted after the re-base check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchKind {
    Full,
    Incremental,
}

/// What every security's plan is computed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanSettings {
    /// The run's date in the configured time zone.
    pub today: NaiveDate,
    /// The run's clock reading: which sessions have closed.
    pub now: DateTime<Utc>,
    /// The first date of a full history.
    pub history_start: NaiveDate,
    /// Calendar days re-fetched before the last stored bar.
    pub overlap_days: u32,
    /// `--full`: every security gets its full window, whatever is stored.
    pub full: bool,
}

/// What one security needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Nothing to request: the stored series already holds the latest completed session, or
    /// the security lists after today.
    UpToDate,
    Fetch(FetchPlan),
}

/// The windows a security may be requested with; which one depends on the provider that
/// ends up answering (see [`FetchPlan::request_for`]).
#[derive(Clone, Debug, PartialEq)]
pub struct FetchPlan {
    pub full: Window,
    /// The short window, valid only for the provider the stored series came from.
    pub incremental: Option<IncrementalWindow>,
    /// The last stored date: a full answer must reach it, or it would lose stored bars.
    pub stored_last: Option<NaiveDate>,
    /// The listing date already stored.
    pub listed_on: Option<NaiveDate>,
    /// The provider name stored as the series' `adj_source`, when bars are stored: the
    /// provider the security sticks with.
    pub source: Option<String>,
    /// The latest session stored for any security of the market's calendar.
    pub market_latest: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IncrementalWindow {
    /// The provider name stored as the series' `adj_source`.
    pub source: String,
    /// The stored series' adjustment basis.
    pub basis: Option<AdjBasis>,
    pub window: Window,
    /// The stored bars inside `window`, to compare with what the provider sends back.
    pub stored_overlap: Vec<Bar>,
}

impl FetchPlan {
    /// The incremental window when `provider` produced the stored series, else `None`
    /// (the full window applies).
    pub fn incremental_for(&self, provider: ProviderName) -> Option<&IncrementalWindow> {
        self.incremental.as_ref().filter(|incremental| incremental.source == provider.as_str())
    }

    /// The window to request from `provider` and what kind of request it is.
    pub fn request_for(&self, provider: ProviderName) -> (Window, FetchKind) {
        match self.incremental_for(provider) {
            Some(incremental) => (incremental.window, FetchKind::Incremental),
            None => (self.full, FetchKind::Full),
        }
    }
}

/// The default first date of history: one year before the earliest report date, so every
/// report has a year of context before its base date; without a report, one year before today.
pub fn default_history_start(earliest_report_date: Option<NaiveDate>, today: NaiveDate) -> NaiveDate {
    let anchor = earliest_report_date.unwrap_or(today);
    anchor.checked_sub_months(Months::new(12)).unwrap_or(anchor)
}

/// What is stored for a market's calendar as a whole (all its securities, the benchmark too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarketSessions {
    /// The latest session any security of the market holds.
    pub latest: Option<NaiveDate>,
    /// When a provider last sent a bar of that session (the latest fetch time among the
    /// securities holding it).
    pub latest_seen_at: Option<DateTime<Utc>>,
}

/// Whether a stored series already holds everything a provider can have at `now`:
/// - its last bar is at or after the latest possible session of its market, or
/// - a provider rewrote its last bar after that session closed (it was asked and had nothing
///   newer: a holiday, a suspension, a provider that has not published yet), and either it
///   holds the market's latest stored session or it was asked no earlier than that session
///   was last seen for another security. A security asked before another one brought a newer
///   session is asked again.
pub fn is_current(state: &SecurityState, now: DateTime<Utc>, market: &MarketSessions) -> bool {
    let Some(stored) = state.bars else { return false };
    let latest_possible = latest_possible_session(state.symbol.market(), now);
    if stored.last >= latest_possible {
        return true;
    }
    let Some((source, fetched_at)) = &state.last_fetch else { return false };
    let asked_since_close =
        ProviderName::parse(source).is_some() && latest_possible_session(state.symbol.market(), *fetched_at) >= latest_possible;
    let holds_market_latest = market.latest.is_none_or(|latest| stored.last >= latest);
    let asked_after_market_latest = market.latest_seen_at.is_none_or(|seen| *fetched_at >= seen);
    asked_since_close && (holds_market_latest || asked_after_market_latest)
}

/// Plans one security from its stored state and what is stored for its market's calendar.
/// The incremental window's `stored_overlap` is left empty: the caller, who owns the
/// database, fills it in.
pub fn plan_security(state: &SecurityState, settings: &PlanSettings, market: &MarketSessions) -> Plan {
    let today = settings.today;
    let stored = state.bars;
    if !settings.full && is_current(state, settings.now, market) {
        return Plan::UpToDate;
    }
    let clamp_to_listing = |date: NaiveDate| match state.listed_on {
        Some(listed_on) => date.max(listed_on),
        None => date,
    };
    let full_from = clamp_to_listing(stored.map_or(settings.history_start, |s| s.first.min(settings.history_start)));
    if full_from > today {
        return Plan::UpToDate;
    }
    let full = Window { from: full_from, to: today };
    let incremental = match (stored, &state.adj_source) {
        (Some(stored), Some(source)) if !settings.full => {
            let from = clamp_to_listing(stored.last.checked_sub_days(Days::new(u64::from(settings.overlap_days))).unwrap_or(stored.last));
            let window = Window { from, to: today };
            Some(IncrementalWindow { source: source.clone(), basis: state.adj_basis, window, stored_overlap: Vec::new() })
        }
        _ => None,
    };
    let source = stored.and(state.adj_source.clone());
    Plan::Fetch(FetchPlan {
        full,
        incremental,
        stored_last: stored.map(|s| s.last),
        listed_on: state.listed_on,
        source,
        market_latest: market.latest,
    })
}

/// A security and its plan.
#[derive(Clone, Debug, PartialEq)]
pub struct SecurityPlan {
    pub symbol: Symbol,
    pub plan: Plan,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BarStats;
    use rstest::rstest;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn state(bars: Option<(&str, &str)>, source: Option<&str>, listed_on: Option<&str>) -> SecurityState {
        SecurityState {
            symbol: Symbol::parse("600941.SH").unwrap(),
            listed_on: listed_on.map(date),
            adj_basis: source.map(|_| AdjBasis::Hfq),
            adj_source: source.map(str::to_string),
            bars: bars.map(|(first, last)| BarStats { first: date(first), last: date(last), count: 100 }),
            last_fetch: None,
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        chrono::TimeZone::from_utc_datetime(&Utc, &chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap())
    }

    /// 2023-03-01 (a Wednesday) 10:00 UTC = 18:00 in Shanghai, after the close.
    fn settings(full: bool) -> PlanSettings {
        PlanSettings { today: date("2023-03-01"), now: utc("2023-03-01 10:00"), history_start: date("2022-02-14"), overlap_days: 10, full }
    }

    fn window(from: &str, to: &str) -> Window {
        Window { from: date(from), to: date(to) }
    }

    // history_start 2022-02-14, today 2023-03-01 (a Wednesday), overlap 10 calendar days.
    #[rstest]
    // First sync: the full history from history_start, no incremental window.
    #[case::first_sync(None, None, None, false, Some((window("2022-02-14", "2023-03-01"), None)))]
    // First sync of a security listed after history_start: clamped to its listing date.
    #[case::clamped_to_listing(None, None, Some("2022-08-09"), false, Some((window("2022-08-09", "2023-03-01"), None)))]
    // Listed after today: nothing can exist yet.
    #[case::listed_after_today(None, None, Some("2023-06-01"), false, None)]
    // Stored up to yesterday: the last date minus 10 days to today from the stored source;
    // 2023-02-28 − 10 days = 2023-02-18.
    #[case::incremental(
        Some(("2022-02-14", "2023-02-28")), Some("tencent"), None, false,
        Some((window("2022-02-14", "2023-03-01"), Some(window("2023-02-18", "2023-03-01"))))
    )]
    // Already holds today's bar: no request at all (a second sync on the same evening).
    #[case::up_to_date_today(Some(("2022-02-14", "2023-03-01")), Some("tencent"), None, false, None)]
    // A weekend or holiday: the last bar is Friday's; one small request still goes out.
    #[case::after_a_weekend(
        Some(("2022-02-14", "2023-02-24")), Some("tencent"), None, false,
        Some((window("2022-02-14", "2023-03-01"), Some(window("2023-02-14", "2023-03-01"))))
    )]
    // `--full` re-fetches from the earlier of history_start and the first stored date, even when
    // today's bar is stored; no incremental window.
    #[case::full_flag(Some(("2021-06-01", "2023-03-01")), Some("tencent"), None, true, Some((window("2021-06-01", "2023-03-01"), None)))]
    // Stored history that starts after history_start (say a CSV import): the full window still
    // starts at history_start.
    #[case::short_stored_history(
        Some(("2023-01-03", "2023-02-28")), Some("csv"), None, false,
        Some((window("2022-02-14", "2023-03-01"), Some(window("2023-02-18", "2023-03-01"))))
    )]
    // The overlap never reaches before the listing date: listed 2023-02-20, so from 2023-02-20.
    #[case::overlap_clamped_to_listing(
        Some(("2023-02-20", "2023-02-28")), Some("tencent"), Some("2023-02-20"), false,
        Some((window("2023-02-20", "2023-03-01"), Some(window("2023-02-20", "2023-03-01"))))
    )]
    fn plans(
        #[case] bars: Option<(&str, &str)>,
        #[case] source: Option<&str>,
        #[case] listed_on: Option<&str>,
        #[case] full: bool,
        #[case] expected: Option<(Window, Option<Window>)>,
    ) {
        let plan = plan_security(&state(bars, source, listed_on), &settings(full), &MarketSessions::default());
        let got = match plan {
            Plan::UpToDate => None,
            Plan::Fetch(fetch) => Some((fetch.full, fetch.incremental.map(|i| i.window))),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn only_the_stored_source_gets_the_incremental_window() {
        let Plan::Fetch(plan) =
            plan_security(&state(Some(("2022-02-14", "2023-02-28")), Some("tencent"), None), &settings(false), &MarketSessions::default())
        else {
            panic!("expected a fetch plan")
        };
        assert_eq!(plan.request_for(ProviderName::Tencent), (window("2023-02-18", "2023-03-01"), FetchKind::Incremental));
        assert_eq!(plan.request_for(ProviderName::Eastmoney), (window("2022-02-14", "2023-03-01"), FetchKind::Full));
        assert_eq!(plan.request_for(ProviderName::Yahoo), (window("2022-02-14", "2023-03-01"), FetchKind::Full));
        assert_eq!(plan.stored_last, Some(date("2023-02-28")));
    }

    // When is a stored series current? Shanghai, 2023; `now` in UTC (Shanghai = UTC+8).
    // `market`: the market's latest stored session and when it was last seen.
    #[rstest]
    // Wednesday 18:00 Shanghai, Wednesday's bar stored.
    #[case::holds_todays_session("2023-03-01", None, "2023-03-01 10:00", None, true)]
    // Wednesday 18:00, only Tuesday's bar: Wednesday's session has closed and is missing.
    #[case::a_session_missing("2023-02-28", None, "2023-03-01 10:00", None, false)]
    // Wednesday 10:00 Shanghai (02:00 UTC), Tuesday's bar: today's session has not closed yet.
    #[case::before_the_close("2023-02-28", None, "2023-03-01 02:00", None, true)]
    // Sunday, Friday's bar: nothing newer exists.
    #[case::weekend("2023-03-03", None, "2023-03-05 04:00", None, true)]
    // Monday 18:00, Friday's bar, asked on Saturday: Monday's session is newer than that ask.
    #[case::asked_before_the_new_session("2023-03-03", Some(("tencent", "2023-04-04 04:00")), "2023-04-10 10:00", None, false)]
    // A holiday (2023-04-05, 清明): asked at 17:00 that day, no bar came; at 18:00 nothing
    // newer can exist, and no other security of the market holds 04-05.
    #[case::holiday_asked_after_close(
        "2023-04-04", Some(("tencent", "2023-04-05 09:00")), "2023-04-05 10:00", Some(("2023-04-04", "2023-04-05 09:00")), true
    )]
    // Another security brought 04-05 at 17:30, after this one was asked (17:00): ask again.
    #[case::asked_before_another_brought_a_newer_session(
        "2023-04-04", Some(("tencent", "2023-04-05 09:00")), "2023-04-05 10:00", Some(("2023-04-05", "2023-04-05 09:30")), false
    )]
    // Asked in the same run that brought 04-05 for the others (a suspension, a late bar): the
    // same question would get the same answer until the next session.
    #[case::asked_with_the_others(
        "2023-04-04", Some(("tencent", "2023-04-05 09:00")), "2023-04-05 10:00", Some(("2023-04-05", "2023-04-05 09:00")), true
    )]
    // Imported from CSV at 17:00: an import says nothing about what a provider has.
    #[case::imported_is_not_asked(
        "2023-04-04", Some(("csv", "2023-04-05 09:00")), "2023-04-05 10:00", Some(("2023-04-04", "2023-04-05 09:00")), false
    )]
    fn current_series(
        #[case] last: &str,
        #[case] last_fetch: Option<(&str, &str)>,
        #[case] now: &str,
        #[case] market: Option<(&str, &str)>,
        #[case] expected: bool,
    ) {
        let mut state = state(Some(("2022-02-14", last)), Some("tencent"), None);
        state.last_fetch = last_fetch.map(|(source, at)| (source.to_string(), utc(at)));
        let market = MarketSessions { latest: market.map(|(latest, _)| date(latest)), latest_seen_at: market.map(|(_, seen)| utc(seen)) };
        assert_eq!(is_current(&state, utc(now), &market), expected);
    }

    #[rstest]
    #[case::one_year_before_the_report(Some("2023-02-14"), "2022-02-14")]
    // 2024-02-29 has no twin a year earlier: chrono clamps to the month's last day.
    #[case::leap_day(Some("2024-02-29"), "2023-02-28")]
    #[case::no_report_one_year_before_today(None, "2022-03-01")]
    fn history_start_defaults(#[case] earliest: Option<&str>, #[case] expected: &str) {
        assert_eq!(default_history_start(earliest.map(date), date("2023-03-01")), date(expected));
    }
}
