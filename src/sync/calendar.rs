//! When a market's daily session is complete: pure functions of the market and an instant.
//!
//! A day counts as a possible session when it is a weekday; holidays are learnt from what is
//! stored (see [`crate::sync::plan`]): a security asked after the latest possible session
//! closed, holding the market's latest stored session, has nothing newer to get.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use crate::symbol::Market;

/// The zone and local time a market's daily bar is complete.
///
/// - Shanghai and Shenzhen close at 15:00, Hong Kong's closing auction ends at 16:10, New York
///   closes at 16:00.
/// - FX bars are dated by the London day (Yahoo stamps them 00:00 Europe/London); a day's bar is
///   taken as complete at 23:00 London.
pub fn session_close(market: Market) -> (Tz, NaiveTime) {
    let at = |hour, minute| NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN);
    match market {
        Market::Sh | Market::Sz => (chrono_tz::Asia::Shanghai, at(15, 0)),
        Market::Hk => (chrono_tz::Asia::Hong_Kong, at(16, 10)),
        Market::Us => (chrono_tz::America::New_York, at(16, 0)),
        Market::Fx => (chrono_tz::Europe::London, at(23, 0)),
    }
}

/// The latest weekday whose session had closed at `now`: the newest bar a provider can have.
pub fn latest_possible_session(market: Market, now: DateTime<Utc>) -> NaiveDate {
    let (zone, close) = session_close(market);
    let local = now.with_timezone(&zone);
    let mut day = local.date_naive();
    if local.time() < close {
        day = day.pred_opt().unwrap_or(day);
    }
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day.pred_opt().unwrap_or(day);
    }
    day
}

/// Markets that share one trading calendar (Shanghai and Shenzhen).
pub fn same_calendar(a: Market, b: Market) -> bool {
    let group = |market: Market| match market {
        Market::Sh | Market::Sz => 0,
        Market::Hk => 1,
        Market::Us => 2,
        Market::Fx => 3,
    };
    group(a) == group(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rstest::rstest;

    fn utc(text: &str) -> DateTime<Utc> {
        Utc.from_utc_datetime(&chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap())
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[rstest]
    // Wednesday 2023-03-01 06:59 UTC = 14:59 Shanghai: the day's session is still open.
    #[case(Market::Sh, "2023-03-01 06:59", "2023-02-28")]
    // 07:00 UTC = 15:00 Shanghai: closed.
    #[case(Market::Sz, "2023-03-01 07:00", "2023-03-01")]
    // Hong Kong closes at 16:10 local = 08:10 UTC.
    #[case(Market::Hk, "2023-03-01 08:09", "2023-02-28")]
    #[case(Market::Hk, "2023-03-01 08:10", "2023-03-01")]
    // 10:00 UTC = 05:00 New York (EST, UTC−5): Tuesday's session is the latest.
    #[case(Market::Us, "2023-03-01 10:00", "2023-02-28")]
    // 21:00 UTC = 16:00 New York.
    #[case(Market::Us, "2023-03-01 21:00", "2023-03-01")]
    // Summer time: 20:00 UTC on 2023-07-05 = 16:00 EDT.
    #[case(Market::Us, "2023-07-05 20:00", "2023-07-05")]
    // FX: 23:00 London (GMT in March) = 23:00 UTC.
    #[case(Market::Fx, "2023-03-01 22:59", "2023-02-28")]
    #[case(Market::Fx, "2023-03-01 23:00", "2023-03-01")]
    // Sunday 2023-03-05 and Monday before the close: Friday 03-03.
    #[case(Market::Sh, "2023-03-05 12:00", "2023-03-03")]
    #[case(Market::Sh, "2023-03-06 01:00", "2023-03-03")]
    // Saturday 01:00 UTC = Friday 20:00 New York: Friday has closed.
    #[case(Market::Us, "2023-03-04 01:00", "2023-03-03")]
    fn latest_possible_sessions(#[case] market: Market, #[case] now: &str, #[case] expected: &str) {
        assert_eq!(latest_possible_session(market, utc(now)), date(expected));
    }

    #[test]
    fn shanghai_and_shenzhen_share_a_calendar() {
        assert!(same_calendar(Market::Sh, Market::Sz));
        assert!(!same_calendar(Market::Sh, Market::Hk));
        assert!(same_calendar(Market::Us, Market::Us));
    }
}
