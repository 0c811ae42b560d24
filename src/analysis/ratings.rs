//! Each rating of the feed scored as a one-company report with its broker's stock rule, and
//! the track record over many scored calls.
//!
//! A call is not scored by code of its own: [`prepare`] turns it into a [`ReportDef`] (the rated
//! company alone, the broker's rule with the benchmark of the company's market, the horizon's
//! scored months, the broker's own word as the report's rating), the pipeline computes that
//! report's verdict with [`super::compute_verdict`], and [`score_from_verdict`] reads the
//! call's result off the whole-report basket. So base close, end date, excess and implied band
//! are exactly a report verdict's: base = the company's last adjusted close on or before the
//! publish date (a report published after the close is measured from that day's close: the
//! list gives no time of day), end = the benchmark's last trading day on or before
//! min(horizon end, as-of).
//!
//! - held: the implied band's label is the broker's own word (`sRatingName`); not_held
//!   otherwise; pending before the horizon end; unscored (with the reason) when there is no
//!   rule, the word is not one of its labels, the rule is in words only, or there are no prices.
//! - direction right (final calls): the implied band lies on the same side of the neutral band
//!   (the band holding 0 excess) as the rating, or both are the neutral band.
//! - Track record per group: hit rate = held / scored (final calls), with the Wilson score
//!   interval at 95 % (z = 1.959964); independent calls: a maintained rating (the same word as
//!   the same broker's previous call on the same stock) published before the horizon end of
//!   that broker's last independent call on it is not a new call; a group with fewer scored
//!   calls than the minimum sample is listed but not ranked; ranked groups are ordered by the
//!   interval's lower bound (a high rate on few calls does not outrank a steady one).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use super::model::{Status, Verdict};
use crate::catalog::{Company, ReportDef};
use crate::ratings::{BrokerBook, Change, Horizon, RatingRecord, RuleGap};

/// A call's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CallStatus {
    Held,
    NotHeld,
    Pending,
    Unscored,
}

/// Why a call is unscored, as a short category (the track record counts by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum UnscoredKind {
    BrokerRuleUnknown,
    WordNotInRule,
    RuleQualitative,
    NoBenchmark,
    NoPrices,
}

/// One call's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallScore {
    pub status: CallStatus,
    /// Company return − benchmark return (a fraction); `None` when unscored.
    pub excess: Option<f64>,
    pub implied_rating: Option<String>,
    pub horizon_end: Option<NaiveDate>,
    /// The rule's horizon and the months scored (`6–12 months, scored at 6`).
    pub horizon: Option<String>,
    /// The date the numbers run to.
    pub end_date: Option<NaiveDate>,
    pub benchmark: Option<String>,
    pub direction_right: Option<bool>,
    pub unscored: Option<UnscoredKind>,
    pub reason: Option<String>,
}

impl CallScore {
    pub fn unscored(kind: UnscoredKind, reason: String) -> CallScore {
        CallScore {
            status: CallStatus::Unscored,
            excess: None,
            implied_rating: None,
            horizon_end: None,
            horizon: None,
            end_date: None,
            benchmark: None,
            direction_right: None,
            unscored: Some(kind),
            reason: Some(reason),
        }
    }
}

/// A rating and its score.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredCall {
    pub record: RatingRecord,
    pub score: CallScore,
}

/// The one-company report a call is scored as, and its rule's horizon; or why it cannot be.
pub fn prepare(record: &RatingRecord, book: &BrokerBook) -> Result<(ReportDef, Horizon), Box<CallScore>> {
    let Some(broker) = book.find(&record.broker, &record.broker_full) else {
        return Err(Box::new(CallScore::unscored(
            UnscoredKind::BrokerRuleUnknown,
            format!("broker rule unknown: {} is not in the broker rules (data/brokers.toml or ratings.brokers_file)", record.broker),
        )));
    };
    let Some(rule) = &broker.stock else {
        return Err(Box::new(CallScore::unscored(
            UnscoredKind::BrokerRuleUnknown,
            format!("broker rule unknown: no stock rule of {} was found (its source text is missing)", broker.name),
        )));
    };
    let (rating_rule, rating) = rule.rating_rule(record.symbol.market(), &record.rating).map_err(|gap| {
        Box::new(match gap {
            RuleGap::Qualitative => CallScore::unscored(
                UnscoredKind::RuleQualitative,
                format!("rule qualitative: {}'s stock rule is stated in words only", broker.name),
            ),
            RuleGap::WordNotInRule { word, labels } => CallScore::unscored(
                UnscoredKind::WordNotInRule,
                format!("word not in the rule: `{word}` is not one of {}'s stock ratings ({})", broker.name, labels.join(", ")),
            ),
            RuleGap::NoBenchmark { market } => CallScore::unscored(
                UnscoredKind::NoBenchmark,
                format!("no benchmark: {}'s rule names none usable for the `{market}` market", broker.name),
            ),
        })
    })?;
    let report = ReportDef {
        id: record.info_code.clone(),
        title: record.title.clone(),
        broker: broker.name.clone(),
        report_date: record.date,
        rating,
        rule: rating_rule,
        companies: vec![Company { symbol: record.symbol.clone(), name: record.name.clone(), name_en: String::new(), alternates: vec![] }],
        sectors: vec![],
        fx: vec![],
    };
    Ok((report, rule.horizon))
}

/// The call's result from its one-company report's verdict.
pub fn score_from_verdict(report: &ReportDef, horizon: &Horizon, verdict: &Verdict) -> CallScore {
    let basket = &verdict.basket;
    let excess = basket.excess.is_finite().then_some(basket.excess);
    let status = match verdict.status {
        Status::Held => CallStatus::Held,
        Status::NotHeld => CallStatus::NotHeld,
        Status::Pending => CallStatus::Pending,
    };
    let direction_right = match (status, excess) {
        (CallStatus::Held | CallStatus::NotHeld, Some(excess)) => {
            let rule = &report.rule;
            let neutral = rule.implied(0.0).0 as i64;
            let side = |index: usize| (index as i64 - neutral).signum();
            Some(side(rule.implied(excess).0) == side(report.rating.0))
        }
        _ => None,
    };
    CallScore {
        status,
        excess,
        implied_rating: excess.map(|_| basket.implied_rating.clone()),
        horizon_end: Some(verdict.horizon_end),
        horizon: Some(horizon.note()),
        end_date: Some(verdict.end_date),
        benchmark: Some(format!("{} ({})", report.rule.benchmark_name, report.rule.benchmark)),
        direction_right,
        unscored: None,
        reason: None,
    }
}

/// The order of a weekly summary's new ratings: changes (up or down) and first coverage
/// first, then maintained; inside each part by publish date, company, broker and info code.
pub fn week_order(calls: &mut [ScoredCall]) {
    calls.sort_by(|a, b| {
        let key = |call: &ScoredCall| {
            let r = &call.record;
            (r.change == Change::Maintained, r.date, r.symbol.to_string(), r.broker.clone(), r.info_code.clone())
        };
        key(a).cmp(&key(b))
    });
}

/// What the track record is grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum GroupBy {
    Broker,
    Analyst,
    Rating,
}

/// One group's track record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrackRow {
    /// The group key: a broker, an analyst, or a broker's word (`国泰君安 增持`).
    pub key: String,
    pub calls: usize,
    /// Final and scored calls.
    pub scored: usize,
    pub held: usize,
    pub hit_rate: Option<f64>,
    pub hit_rate_low: Option<f64>,
    pub hit_rate_high: Option<f64>,
    pub direction_right: usize,
    pub mean_excess: Option<f64>,
    pub median_excess: Option<f64>,
    pub pending: usize,
    pub unscored: usize,
    pub unscored_by_reason: BTreeMap<UnscoredKind, usize>,
    pub independent: usize,
    /// 1 = best; `None` below the minimum sample.
    pub rank: Option<usize>,
}

/// The Wilson score interval of `k` successes in `n` trials at 95 %; `None` for no trials.
pub fn wilson(k: usize, n: usize) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    const Z: f64 = 1.959_963_984_540_054;
    let (n, p) = (n as f64, k as f64 / n as f64);
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Which calls are independent (see the module docs), by index into `calls`.
pub fn independent_calls(calls: &[ScoredCall]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..calls.len()).collect();
    order.sort_by(|&a, &b| (calls[a].record.date, &calls[a].record.info_code).cmp(&(calls[b].record.date, &calls[b].record.info_code)));
    // Per (broker, stock): the last call's word and the horizon end of the last independent call.
    let mut open: HashMap<(&str, String), (&str, Option<NaiveDate>)> = HashMap::new();
    let mut independent = vec![true; calls.len()];
    for index in order {
        let call = &calls[index];
        let key = (call.record.broker.as_str(), call.record.symbol.to_string());
        let word = call.record.rating.as_str();
        let repeat = match open.get(&key) {
            Some(&(last_word, Some(end))) => last_word == word && call.record.date < end,
            _ => false,
        };
        independent[index] = !repeat;
        let end = if repeat { open.get(&key).and_then(|entry| entry.1) } else { call.score.horizon_end };
        open.insert(key, (word, end));
    }
    independent
}

/// The track record of `calls` grouped by `by`; groups with fewer than `min_sample` scored
/// calls are listed after the ranked ones, unranked.
pub fn track_record(calls: &[ScoredCall], by: GroupBy, min_sample: usize) -> Vec<TrackRow> {
    let independent = independent_calls(calls);
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, call) in calls.iter().enumerate() {
        let keys: Vec<String> = match by {
            GroupBy::Broker => vec![call.record.broker.clone()],
            GroupBy::Rating => vec![format!("{} {}", call.record.broker, call.record.rating)],
            GroupBy::Analyst => {
                let names: Vec<String> =
                    call.record.analysts.split([',', '，', ';']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
                if names.is_empty() { vec!["(no analyst named)".to_string()] } else { names }
            }
        };
        for key in keys {
            groups.entry(key).or_default().push(index);
        }
    }
    let mut rows: Vec<TrackRow> = groups
        .into_iter()
        .map(|(key, members)| {
            let mut row = TrackRow {
                key,
                calls: members.len(),
                scored: 0,
                held: 0,
                hit_rate: None,
                hit_rate_low: None,
                hit_rate_high: None,
                direction_right: 0,
                mean_excess: None,
                median_excess: None,
                pending: 0,
                unscored: 0,
                unscored_by_reason: BTreeMap::new(),
                independent: members.iter().filter(|&&i| independent[i]).count(),
                rank: None,
            };
            let mut excesses = Vec::new();
            for &index in &members {
                let score = &calls[index].score;
                match score.status {
                    CallStatus::Held | CallStatus::NotHeld => {
                        row.scored += 1;
                        row.held += usize::from(score.status == CallStatus::Held);
                        row.direction_right += usize::from(score.direction_right == Some(true));
                        excesses.extend(score.excess);
                    }
                    CallStatus::Pending => row.pending += 1,
                    CallStatus::Unscored => {
                        row.unscored += 1;
                        if let Some(kind) = score.unscored {
                            *row.unscored_by_reason.entry(kind).or_default() += 1;
                        }
                    }
                }
            }
            if row.scored > 0 {
                row.hit_rate = Some(row.held as f64 / row.scored as f64);
                let (low, high) = wilson(row.held, row.scored).unwrap_or((0.0, 1.0));
                (row.hit_rate_low, row.hit_rate_high) = (Some(low), Some(high));
            }
            if !excesses.is_empty() {
                row.mean_excess = Some(excesses.iter().sum::<f64>() / excesses.len() as f64);
                excesses.sort_by(f64::total_cmp);
                let mid = excesses.len() / 2;
                row.median_excess = Some(if excesses.len() % 2 == 1 { excesses[mid] } else { (excesses[mid - 1] + excesses[mid]) / 2.0 });
            }
            row
        })
        .collect();
    let low = |row: &TrackRow| row.hit_rate_low.unwrap_or(0.0);
    rows.sort_by(|a, b| {
        let (ranked_a, ranked_b) = (a.scored >= min_sample, b.scored >= min_sample);
        ranked_b.cmp(&ranked_a).then(low(b).total_cmp(&low(a))).then(b.scored.cmp(&a.scored)).then(a.key.cmp(&b.key))
    });
    for (position, row) in rows.iter_mut().filter(|row| row.scored >= min_sample).enumerate() {
        row.rank = Some(position + 1);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_a_hand_computation() {
        // 8 of 10, z = 1.959964, z² = 3.841459: centre (0.8 + 0.192073)/1.384146 = 0.716740;
        // half 1.959964 · sqrt(0.016 + 0.009604)/1.384146 = 1.959964 · 0.160012/1.384146 = 0.226580
        // → [0.490160, 0.943320] (the textbook 0.4902–0.9433).
        let (low, high) = wilson(8, 10).unwrap();
        assert!((low - 0.490160).abs() < 1e-5 && (high - 0.943320).abs() < 1e-5, "{low} {high}");
        assert_eq!(wilson(0, 0), None);
        // 0 of 4: [0, z²/(n + z²)] = [0, 3.841459/7.841459 = 0.489891].
        let (low, high) = wilson(0, 4).unwrap();
        assert!(low.abs() < 1e-12 && (high - 0.489891).abs() < 1e-5, "{high}");
    }

    fn call(code: &str, day: (i32, u32, u32), word: &str, status: CallStatus, excess: Option<f64>) -> ScoredCall {
        let date = NaiveDate::from_ymd_opt(day.0, day.1, day.2).unwrap();
        let record = RatingRecord {
            info_code: code.to_string(),
            symbol: crate::symbol::Symbol::parse("600941.SH").unwrap(),
            name: "中国移动".into(),
            broker: "华泰证券".into(),
            broker_full: String::new(),
            analysts: "甲, 乙".into(),
            date,
            rating: word.into(),
            normalized: None,
            normalized_value: None,
            previous: None,
            previous_value: None,
            change: crate::ratings::Change::Maintained,
            target_price: None,
            title: String::new(),
            pdf_url: String::new(),
        };
        let mut score = CallScore::unscored(UnscoredKind::NoPrices, String::new());
        if status != CallStatus::Unscored {
            score = CallScore {
                status,
                excess,
                direction_right: Some(status == CallStatus::Held),
                horizon_end: date.checked_add_months(chrono::Months::new(6)),
                unscored: None,
                reason: None,
                ..score
            };
        }
        ScoredCall { record, score }
    }

    #[test]
    fn independent_calls_and_group_figures() {
        use CallStatus::*;
        // 华泰 买入 on 2023-01-05 (horizon to 07-05); 买入 again on 03-24 (inside it: not
        // independent); 买入 on 08-01 (after 07-05: independent again); 增持 on 09-01 (a new word:
        // independent). Excesses +0.30, +0.20, −0.10 on the three final calls; one pending.
        let calls = vec![
            call("A", (2023, 1, 5), "买入", Held, Some(0.30)),
            call("B", (2023, 3, 24), "买入", Held, Some(0.20)),
            call("C", (2023, 8, 1), "买入", NotHeld, Some(-0.10)),
            call("D", (2023, 9, 1), "增持", Pending, Some(0.05)),
            call("E", (2023, 9, 2), "增持", Unscored, None),
        ];
        assert_eq!(independent_calls(&calls), [true, false, true, true, false]);
        let rows = track_record(&calls, GroupBy::Broker, 5);
        let row = &rows[0];
        // scored 3 (A, B, C), held 2; mean (0.30 + 0.20 − 0.10)/3 = 0.13333, median 0.20.
        assert_eq!((row.calls, row.independent, row.scored, row.held, row.pending, row.unscored), (5, 3, 3, 2, 1, 1));
        assert!((row.mean_excess.unwrap() - 0.4 / 3.0).abs() < 1e-12 && (row.median_excess.unwrap() - 0.20).abs() < 1e-12);
        assert_eq!((row.direction_right, row.rank), (2, None), "3 scored calls are below the minimum sample of 5");
        assert_eq!(row.unscored_by_reason.get(&UnscoredKind::NoPrices), Some(&1));
        // By analyst: "甲, 乙" credits both.
        let by_analyst = track_record(&calls, GroupBy::Analyst, 1);
        assert_eq!(
            by_analyst.iter().map(|r| (r.key.as_str(), r.scored, r.rank)).collect::<Vec<_>>(),
            [("乙", 3, Some(1)), ("甲", 3, Some(2))]
        );
    }
}
