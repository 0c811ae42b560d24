//! The content of a chat message: the headline, one line per sector, the week's best and
//! worst names, and links to the dashboard's pages. Words and numbers only; each chat
//! platform's syntax is `notify`'s (`notify::deliver`). Pure.

use serde::{Deserialize, Serialize};

use super::RenderOptions;
use super::headline::{Headline, State, group_state, week_state};
use super::numbers::{percent, points};
use super::verdict::display_name;
use super::weekly::{change_text, rating_word, target_text, verdict_so_far};
use crate::analysis::model::{MemberMove, Verdict, WeeklySummary};
use crate::analysis::ratings::ScoredCall;
use crate::ratings::Change;

/// One sector's line: `通信 communications: -1.46 pp 中性, not held so far, week +1.02 pp`,
/// with the state apart so a platform can colour it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SectorLine {
    /// `通信 communications`
    pub name: String,
    /// `-1.46 pp 中性`
    pub figures: String,
    pub state: State,
    /// `week +1.02 pp`; empty for a verdict.
    pub change: String,
}

impl SectorLine {
    /// The line as plain text.
    pub fn text(&self) -> String {
        let mut text = format!("{}: {}, {}", self.name, self.figures, self.state.short());
        if !self.change.is_empty() {
            text.push_str(", ");
            text.push_str(&self.change);
        }
        text
    }
}

/// A link to a dashboard page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub text: String,
    pub url: String,
}

/// What a chat message says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    pub headline: Headline,
    /// `小型测试报告 · 2023-W20`: what the headline is about.
    pub title: String,
    pub sectors: Vec<SectorLine>,
    /// `best this week: 腾讯 +5.00 %, 中国移动 +2.00 %` and the worst; empty when not known.
    pub movers: Vec<String>,
    /// The week's new ratings on the watchlist: a line per change or first coverage (at most
    /// five, then how many more), then how many were maintained; empty when there are none
    /// (and for a verdict). Absent from the JSON when empty, so older queued digests read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_ratings: Vec<String>,
    /// The report's page and the week's page; empty without `http.public_url`.
    pub links: Vec<Link>,
}

/// `<public_url>/reports/<id>` (and the week's page) when the dashboard's public address is
/// configured.
fn links(public_url: &str, report_id: &str, week: Option<&str>) -> Vec<Link> {
    let base = public_url.trim_end_matches('/');
    if base.is_empty() {
        return Vec::new();
    }
    let mut links = vec![Link { text: "report page".to_string(), url: format!("{base}/reports/{report_id}") }];
    if let Some(week) = week {
        links.push(Link { text: format!("week {week}"), url: format!("{base}/reports/{report_id}/weeks/{week}") });
    }
    links
}

/// `腾讯 +5.00 %, 中国移动 +2.00 %`: the first two.
fn names<'a>(moves: impl Iterator<Item = &'a MemberMove>) -> String {
    moves.map(|member| format!("{} {}", member.name, percent(member.week_return))).collect::<Vec<_>>().join(", ")
}

/// The best two and the worst two of `ranked` (best first), never one member in both: with
/// fewer than four, one line naming them all, best to worst.
fn best_and_worst_lines(period: &str, ranked: &[MemberMove]) -> Vec<String> {
    match ranked.len() {
        0 => Vec::new(),
        1..=3 => vec![format!("{period}, best to worst: {}", names(ranked.iter()))],
        _ => vec![
            format!("best {period}: {}", names(ranked.iter().take(2))),
            format!("worst {period}: {}", names(ranked.iter().rev().take(2))),
        ],
    }
}

/// How many changed or first ratings a digest names before counting the rest.
const NEW_RATING_LINES: usize = 5;

/// `new rating 2023-05-16: 中国移动, 华泰证券 买入, up (was 增持), target 120.00, pending,
/// horizon end 2023-11-16 (6 months)` per change or first coverage (the first five in the
/// summary's order, then `and 2 more changed ratings`), then `1 rating maintained this week`.
fn new_rating_lines(calls: &[ScoredCall]) -> Vec<String> {
    let (changed, maintained): (Vec<&ScoredCall>, Vec<&ScoredCall>) =
        calls.iter().partition(|call| call.record.change != Change::Maintained);
    let mut lines: Vec<String> = changed
        .iter()
        .take(NEW_RATING_LINES)
        .map(|call| {
            let r = &call.record;
            let target = target_text(r.target_price).map(|price| format!(", target {price}")).unwrap_or_default();
            format!(
                "new rating {}: {}, {} {}, {}{target}, {}",
                r.date,
                r.name,
                r.broker,
                rating_word(r),
                change_text(r),
                verdict_so_far(&call.score)
            )
        })
        .collect();
    if changed.len() > NEW_RATING_LINES {
        let more = changed.len() - NEW_RATING_LINES;
        lines.push(format!("and {more} more changed or first {}", if more == 1 { "rating" } else { "ratings" }));
    }
    match maintained.len() {
        0 => {}
        1 => lines.push("1 rating maintained this week".to_string()),
        n => lines.push(format!("{n} ratings maintained this week")),
    }
    lines
}

/// A week's digest: per sector the excess since the report, its implied rating and state, and
/// the week's excess; the basket's best and worst two names of the week.
pub fn weekly_digest(summary: &WeeklySummary, options: &RenderOptions, public_url: &str) -> Digest {
    let sectors = summary
        .sectors
        .iter()
        .map(|sector| SectorLine {
            name: display_name(&sector.name, &sector.name_en),
            figures: format!("{} {}", points(sector.since_report_excess), sector.implied_rating),
            state: week_state(summary, sector),
            change: format!("week {}", points(sector.week_excess)),
        })
        .collect();
    // The model's lists, best first: the best and then the worst reversed (a basket of six or
    // fewer has one list, `best`, already best to worst).
    let ranked: Vec<MemberMove> = summary.basket.best.iter().chain(summary.basket.worst.iter().rev()).cloned().collect();
    let movers = best_and_worst_lines("this week", &ranked);
    let week = summary.week.to_string();
    Digest {
        headline: Headline::of_weekly(summary, options),
        title: format!("{} · {week}", summary.title),
        sectors,
        movers,
        new_ratings: new_rating_lines(&summary.new_ratings),
        links: links(public_url, &summary.report_id, Some(&week)),
    }
}

/// A verdict's digest: per sector the excess, its implied rating and state; the basket's best
/// and worst two members since the report.
pub fn verdict_digest(verdict: &Verdict, options: &RenderOptions, public_url: &str) -> Digest {
    let sectors = verdict
        .sectors
        .iter()
        .map(|group| SectorLine {
            name: display_name(&group.name, &group.name_en),
            figures: format!("{} {}", points(group.excess), group.implied_rating),
            state: group_state(verdict, group),
            change: String::new(),
        })
        .collect();
    let mut members: Vec<MemberMove> = verdict
        .basket
        .members
        .iter()
        .map(|member| MemberMove { symbol: member.symbol.clone(), name: member.name.clone(), week_return: member.total_return })
        .collect();
    // Best first; ties keep the basket's order.
    members.sort_by(|a, b| b.week_return.total_cmp(&a.week_return));
    let movers = best_and_worst_lines("since the report", &members);
    Digest {
        headline: Headline::of_verdict(verdict, options),
        title: format!("{} ({}, {})", verdict.title, verdict.broker, verdict.report_date),
        sectors,
        movers,
        new_ratings: Vec::new(),
        links: links(public_url, &verdict.report_id, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::model::ranked_moves as ranked;

    fn call(code: &str, day: u32, change: Change, status: crate::analysis::ratings::CallStatus) -> ScoredCall {
        use crate::analysis::ratings::{CallScore, UnscoredKind};
        let date = chrono::NaiveDate::from_ymd_opt(2023, 5, day).unwrap();
        let record = crate::ratings::RatingRecord {
            info_code: code.to_string(),
            symbol: "600941.SH".parse().unwrap(),
            name: "中国移动".into(),
            broker: "华泰证券".into(),
            broker_full: String::new(),
            analysts: String::new(),
            date,
            rating: "买入".into(),
            normalized: Some("买入".into()),
            normalized_value: None,
            previous: (change != Change::FirstCoverage).then(|| "增持".to_string()),
            previous_value: None,
            change,
            target_price: None,
            title: String::new(),
            pdf_url: String::new(),
        };
        let mut score = CallScore::unscored(UnscoredKind::BrokerRuleUnknown, "broker rule unknown: …".into());
        if status == crate::analysis::ratings::CallStatus::Pending {
            score = CallScore {
                status,
                horizon_end: date.checked_add_months(chrono::Months::new(6)),
                horizon: Some("6 months".into()),
                unscored: None,
                reason: None,
                ..score
            };
        }
        ScoredCall { record, score }
    }

    #[test]
    fn a_digest_names_five_changed_ratings_and_counts_the_rest() {
        use crate::analysis::ratings::CallStatus::{Pending, Unscored};
        // Seven changes (in the summary's order) and two maintained: five lines, "and 2 more",
        // then the maintained count.
        let mut calls: Vec<ScoredCall> = (0..7).map(|i| call(&format!("C{i}"), 15 + i, Change::Up, Pending)).collect();
        calls[1] = call("F", 16, Change::FirstCoverage, Unscored);
        calls.extend([call("M1", 15, Change::Maintained, Pending), call("M2", 16, Change::Maintained, Pending)]);
        let lines = new_rating_lines(&calls);
        assert_eq!(lines.len(), 7, "{lines:?}");
        assert_eq!(lines[0], "new rating 2023-05-15: 中国移动, 华泰证券 买入, up (was 增持), pending, horizon end 2023-11-15 (6 months)");
        assert_eq!(lines[1], "new rating 2023-05-16: 中国移动, 华泰证券 买入, first coverage, unscored: broker rule unknown");
        assert_eq!(lines[5..], ["and 2 more changed or first ratings", "2 ratings maintained this week"]);
        assert!(new_rating_lines(&calls[7..8]) == ["1 rating maintained this week"]);
        assert!(new_rating_lines(&[]).is_empty());
    }

    #[test]
    fn no_member_is_named_both_best_and_worst() {
        // Three members: one line, best to worst (two lists of two would name m1 twice).
        assert_eq!(
            best_and_worst_lines("this week", &ranked(&[0.02, 0.0, -0.02])),
            ["this week, best to worst: m0 +2.00 %, m1 0.00 %, m2 -2.00 %"]
        );
        assert_eq!(
            best_and_worst_lines("this week", &ranked(&[0.02, 0.01, 0.0, -0.02])),
            ["best this week: m0 +2.00 %, m1 +1.00 %", "worst this week: m3 -2.00 %, m2 0.00 %"]
        );
        assert!(best_and_worst_lines("this week", &[]).is_empty());
    }
}
