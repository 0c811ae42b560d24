//! The headline: the one answer every surface leads with (the first line of `verdict` and
//! `report`, the `headline` object of their JSON, the badge above a web page's tables, the
//! email's subject and first line, the first line of every chat message).
//!
//! `看好 (overweight) held so far: +24.40 pp vs ≥ +10 pp (+14.40 pp clear), 87 days left, prices of 2023-05-19`
//!
//! Built once from the analysis output and the rule's band lines ([`RenderOptions`]); pure.
//! The numbers are rounded to whole basis points first, as the rule rounds, so the printed
//! distance and the state never disagree.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::RenderOptions;
use super::numbers::{points, threshold, unsigned_points};
use crate::analysis::model::{GroupVerdict, SectorWeek, Status, Verdict, WeeklySummary};
use crate::catalog::{Boundary, to_basis_points};

/// Where the answer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The horizon has ended and the rating held.
    Held,
    /// The horizon has ended and the rating did not hold.
    NotHeld,
    /// Pending; as of the latest close the rating holds.
    HeldSoFar,
    /// Pending; as of the latest close it does not.
    NotHeldSoFar,
    /// Pending on the report date itself: no close after the base yet.
    NoCloseYet,
}

impl State {
    /// The words of the state, as the headline and every table and chat line write them.
    pub fn words(self) -> &'static str {
        match self {
            State::Held => "held",
            State::NotHeld => "not held",
            State::HeldSoFar => "held so far",
            State::NotHeldSoFar => "not held so far",
            State::NoCloseYet => "pending, no close yet on day 0",
        }
    }

    /// The short form for a sector's table cell or chat line.
    pub fn short(self) -> &'static str {
        match self {
            State::NoCloseYet => "no close yet",
            other => other.words(),
        }
    }

    /// Whether the rating holds (finally or so far); `None` before any close.
    pub fn holds(self) -> Option<bool> {
        match self {
            State::Held | State::HeldSoFar => Some(true),
            State::NotHeld | State::NotHeldSoFar => Some(false),
            State::NoCloseYet => None,
        }
    }

    fn of(status: Status, held: bool, no_close: bool) -> State {
        match status {
            _ if no_close => State::NoCloseYet,
            Status::Held => State::Held,
            Status::NotHeld => State::NotHeld,
            Status::Pending if held => State::HeldSoFar,
            Status::Pending => State::NotHeldSoFar,
        }
    }
}

/// The comparison a band line makes: the rating's band is `excess <op> line`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "≥")]
    AtLeast,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = "≤")]
    AtMost,
    #[serde(rename = "<")]
    Below,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::AtLeast => "≥",
            Op::Above => ">",
            Op::AtMost => "≤",
            Op::Below => "<",
        }
    }
}

/// The band line that decides the rating: `≥ +10 pp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub op: Op,
    /// The line in basis points of excess (1000 = +10 pp).
    pub bp: i64,
}

impl Line {
    /// How far `excess_bp` is on the rating's side of the line (negative: on the other side).
    fn distance(self, excess_bp: i64) -> i64 {
        match self.op {
            Op::AtLeast | Op::Above => excess_bp - self.bp,
            Op::AtMost | Op::Below => self.bp - excess_bp,
        }
    }

    /// Whether an excess of `excess_bp` is on the rating's side of the line.
    fn holds(self, excess_bp: i64) -> bool {
        match self.op {
            Op::AtLeast | Op::AtMost => self.distance(excess_bp) >= 0,
            Op::Above | Op::Below => self.distance(excess_bp) > 0,
        }
    }

    pub fn text(self) -> String {
        format!("{} {}", self.op.symbol(), threshold(self.bp))
    }
}

/// The headline of a verdict or a week. Excess and distance are fractions, as in the rest of
/// the JSON; `distance` is positive on the rating's side of `line`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// The headline as one line of text, the form every surface prints.
    pub text: String,
    pub rating: String,
    pub rating_en: String,
    pub state: State,
    /// The basket's excess over the benchmark.
    pub excess: f64,
    /// The line that decides the rating; `None` when the rule has no band of that label.
    pub line: Option<Line>,
    pub distance: Option<f64>,
    pub days_left: i64,
    /// The horizon has ended: the answer no longer changes.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The date of the closes the numbers come from.
    pub prices_date: NaiveDate,
}

/// The lines of the band labelled `rating`: its lower and its upper end.
fn band_lines(boundaries: &[Boundary], rating: &str) -> (Option<Line>, Option<Line>) {
    let lower = boundaries
        .iter()
        .find(|b| b.above.zh == rating)
        .map(|b| Line { op: if b.belongs_above { Op::AtLeast } else { Op::Above }, bp: b.bp });
    let upper = boundaries
        .iter()
        .find(|b| b.below.zh == rating)
        .map(|b| Line { op: if b.belongs_above { Op::Below } else { Op::AtMost }, bp: b.bp });
    (lower, upper)
}

/// The deciding line: the only one, or of a middle band the one the excess is past, else the
/// nearer one.
fn deciding_line(boundaries: &[Boundary], rating: &str, excess_bp: i64) -> Option<Line> {
    match band_lines(boundaries, rating) {
        (Some(lower), Some(upper)) => {
            let (to_lower, to_upper) = (lower.distance(excess_bp), upper.distance(excess_bp));
            if to_upper < 0 || (to_lower >= 0 && to_upper < to_lower) { Some(upper) } else { Some(lower) }
        }
        (lower, upper) => lower.or(upper),
    }
}

struct Facts<'a> {
    rating: &'a str,
    rating_en: &'a str,
    state: State,
    excess: f64,
    days_left: i64,
    is_final: bool,
    prices_date: NaiveDate,
}

impl Headline {
    fn new(facts: Facts<'_>, boundaries: &[Boundary]) -> Headline {
        let excess_bp = to_basis_points(facts.excess);
        let line = deciding_line(boundaries, facts.rating, excess_bp);
        let distance_bp = line.map(|line| line.distance(excess_bp));
        let when = if facts.is_final {
            "final".to_string()
        } else {
            format!("{} {} left", facts.days_left, if facts.days_left == 1 { "day" } else { "days" })
        };
        let rating = if facts.rating_en.is_empty() || facts.rating_en == facts.rating {
            facts.rating.to_string()
        } else {
            format!("{} ({})", facts.rating, facts.rating_en)
        };
        let against = match (facts.state, line, distance_bp) {
            (State::NoCloseYet, Some(line), _) => format!("line {}", line.text()),
            (State::NoCloseYet, None, _) => "no excess yet".to_string(),
            (state, Some(line), Some(distance)) => {
                let gap = if state.holds() == Some(true) {
                    format!("{} clear", points(distance as f64 / 10_000.0))
                } else {
                    format!("{} short", unsigned_points(distance))
                };
                format!("{} vs {} ({gap})", points(facts.excess), line.text())
            }
            _ => points(facts.excess),
        };
        let text = format!("{rating} {}: {against}, {when}, prices of {}", facts.state.words(), facts.prices_date);
        Headline {
            text,
            rating: facts.rating.to_string(),
            rating_en: facts.rating_en.to_string(),
            state: facts.state,
            excess: excess_bp as f64 / 10_000.0,
            line,
            distance: distance_bp.map(|bp| bp as f64 / 10_000.0),
            days_left: facts.days_left,
            is_final: facts.is_final,
            prices_date: facts.prices_date,
        }
    }

    /// The verdict's headline: the basket against the report's rating, to the verdict's end date.
    pub fn of_verdict(verdict: &Verdict, options: &RenderOptions) -> Headline {
        let facts = Facts {
            rating: &verdict.rating,
            rating_en: &verdict.rating_en,
            state: group_state(verdict, &verdict.basket),
            excess: verdict.basket.excess,
            days_left: verdict.days_left,
            is_final: verdict.status != Status::Pending,
            prices_date: verdict.end_date,
        };
        Headline::new(facts, &options.boundaries)
    }

    /// A week's headline: the basket's since-report excess as of the week's last close. A week
    /// after the horizon end states the final answer, measured to the horizon end as the
    /// verdict is (the basket's path at its last close on or before it), not the week's numbers.
    pub fn of_weekly(summary: &WeeklySummary, options: &RenderOptions) -> Headline {
        let at_horizon = (summary.as_of > summary.horizon_end)
            .then(|| summary.paths.iter().find(|path| path.name == summary.basket.name))
            .flatten()
            .and_then(|path| path.points.iter().rev().find(|point| point.date <= summary.horizon_end));
        if let Some(point) = at_horizon {
            let excess_bp = to_basis_points(point.excess);
            let held = match deciding_line(&options.boundaries, &summary.rating, excess_bp) {
                Some(line) => line.holds(excess_bp),
                None => summary.basket.implied_rating == summary.rating,
            };
            let facts = Facts {
                rating: &summary.rating,
                rating_en: &summary.rating_en,
                state: if held { State::Held } else { State::NotHeld },
                excess: point.excess,
                days_left: 0,
                is_final: true,
                prices_date: point.date,
            };
            return Headline::new(facts, &options.boundaries);
        }
        let facts = Facts {
            rating: &summary.rating,
            rating_en: &summary.rating_en,
            state: week_state(summary, &summary.basket),
            excess: summary.basket.since_report_excess,
            days_left: summary.days_left,
            is_final: summary.days_left == 0,
            prices_date: summary.as_of,
        };
        Headline::new(facts, &options.boundaries)
    }

    /// The headline in brief, for a phone notification: `看好 held so far: +24.40 pp vs ≥ +10 pp`.
    pub fn brief(&self) -> String {
        match (self.state, self.line) {
            (State::NoCloseYet, _) => format!("{} {}", self.rating, self.state.words()),
            (state, Some(line)) => format!("{} {}: {} vs {}", self.rating, state.words(), points(self.excess), line.text()),
            (state, None) => format!("{} {}: {}", self.rating, state.words(), points(self.excess)),
        }
    }

    /// The parts a chat platform styles apart: the rating, the state's words, and the rest
    /// (`: +24.40 pp vs ≥ +10 pp (+14.40 pp clear), 87 days left, prices of 2023-05-19`).
    pub fn parts(&self) -> (&str, &str, &str) {
        let state = self.state.words();
        match self.text.split_once(&format!(" {state}")) {
            Some((rating, rest)) => (rating, state, rest),
            None => (&self.text, "", ""),
        }
    }
}

/// A sector's (or the basket's) state in a verdict.
pub fn group_state(verdict: &Verdict, group: &GroupVerdict) -> State {
    State::of(group.status, group.held, verdict.end_date <= verdict.report_date)
}

/// A sector's (or the basket's) state in a week.
pub fn week_state(summary: &WeeklySummary, sector: &SectorWeek) -> State {
    let status = match (summary.days_left, sector.implied_rating == summary.rating) {
        (0, true) => Status::Held,
        (0, false) => Status::NotHeld,
        _ => Status::Pending,
    };
    State::of(status, sector.implied_rating == summary.rating, summary.as_of <= summary.report_date)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's rule: ≥ +10 pp 看好, ≤ −10 pp 看淡, else 中性.
    fn seed() -> Vec<Boundary> {
        RenderOptions::default().boundaries
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn headline(rating: &str, state: State, excess: f64, days_left: i64) -> Headline {
        let (rating_en, is_final) = (if rating == "看好" { "overweight" } else { "neutral" }, days_left == 0);
        let prices_date = if state == State::NoCloseYet { date("2023-02-14") } else { date("2023-05-19") };
        Headline::new(Facts { rating, rating_en, state, excess, days_left, is_final, prices_date }, &seed())
    }

    #[test]
    fn the_top_band_is_decided_by_its_lower_line() {
        // Basket excess +24.40 pp against ≥ +10 pp: 2440 − 1000 = 1440 bp clear.
        let h = headline("看好", State::HeldSoFar, 0.2440, 87);
        assert_eq!(h.text, "看好 (overweight) held so far: +24.40 pp vs ≥ +10 pp (+14.40 pp clear), 87 days left, prices of 2023-05-19");
        assert_eq!(h.line, Some(Line { op: Op::AtLeast, bp: 1000 }));
        assert_eq!(h.distance, Some(0.144));
        assert_eq!(h.brief(), "看好 held so far: +24.40 pp vs ≥ +10 pp");
        assert_eq!(
            h.parts(),
            ("看好 (overweight)", "held so far", ": +24.40 pp vs ≥ +10 pp (+14.40 pp clear), 87 days left, prices of 2023-05-19")
        );
    }

    #[test]
    fn a_middle_band_is_decided_by_the_line_it_is_past_or_the_nearer_one() {
        // 中性 is (−10, +10): +1.73 pp is 827 bp under +10, 1173 above −10: the upper is nearer.
        let h = headline("中性", State::HeldSoFar, 0.0173, 87);
        assert_eq!(h.text, "中性 (neutral) held so far: +1.73 pp vs < +10 pp (+8.27 pp clear), 87 days left, prices of 2023-05-19");
        // −7.50 pp: 250 bp above −10, 1750 below +10: the lower is nearer.
        let h = headline("中性", State::Held, -0.075, 0);
        assert_eq!(h.text, "中性 (neutral) held: -7.50 pp vs > -10 pp (+2.50 pp clear), final, prices of 2023-05-19");
        // +15.25 pp is past the upper line by 525 bp.
        let h = headline("中性", State::NotHeld, 0.1525, 0);
        assert_eq!(h.text, "中性 (neutral) not held: +15.25 pp vs < +10 pp (5.25 pp short), final, prices of 2023-05-19");
    }

    #[test]
    fn a_line_exactly_reached_is_clear_by_zero() {
        // 0.30 − 0.20 is 0.0999…98 in floating point: 1000 bp, on the inclusive line.
        let h = headline("看好", State::HeldSoFar, 0.30 - 0.20, 1);
        assert_eq!(h.text, "看好 (overweight) held so far: +10.00 pp vs ≥ +10 pp (0.00 pp clear), 1 day left, prices of 2023-05-19");
    }

    #[test]
    fn a_bottom_band_is_decided_by_its_upper_line() {
        let boundaries = seed();
        // 看淡 is ≤ −10 pp: −12 pp is 200 bp on its side.
        let line = deciding_line(&boundaries, "看淡", -1200);
        assert_eq!(line, Some(Line { op: Op::AtMost, bp: -1000 }));
        assert_eq!(line.map(|line| line.distance(-1200)), Some(200));
        // Exactly on a line: inside the band it is inclusive for (看好 ≥ +10), outside the one it
        // is exclusive for (中性 < +10).
        assert!(Line { op: Op::AtLeast, bp: 1000 }.holds(1000));
        assert!(!Line { op: Op::Below, bp: 1000 }.holds(1000));
        assert_eq!(deciding_line(&boundaries, "中性", 1000), Some(Line { op: Op::Below, bp: 1000 }));
        // A label the rule lacks has no line.
        assert_eq!(deciding_line(&boundaries, "买入", 0), None);
    }
}
