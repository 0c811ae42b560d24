//! Hand-built model values for the rendering tests: two sectors with CJK names, a HKD member
//! with an FX move, a stale member, an excluded member. The numbers are consistent with each
//! other; the arithmetic is in the comments.

use chrono::NaiveDate;
use ratingwatch::analysis::model::{
    BenchmarkReturn, CurrencyMode, ExcludedMember, GroupVerdict, MarketFreshness, MemberMove, MemberReturn, NamedPath, PathPoint,
    SectorWeek, StaleMember, Status, Verdict, WeeklySummary,
};
use ratingwatch::symbol::Symbol;

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn symbol(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn path(points: &[(&str, f64)]) -> Vec<PathPoint> {
    points.iter().map(|(day, excess)| PathPoint { date: date(day), excess: *excess }).collect()
}

/// `returns` is (in the verdict's currency, in the listing currency).
fn member(
    code: &str,
    name: &str,
    base: (&str, f64),
    end: (&str, f64),
    returns: (f64, f64),
    fx: Option<(f64, f64)>,
    stale: bool,
) -> MemberReturn {
    let (total_return, local_return) = returns;
    MemberReturn {
        symbol: symbol(code),
        name: name.to_string(),
        currency: symbol(code).currency(),
        base_date: date(base.0),
        base_close: base.1,
        end_date: date(end.0),
        end_close: end.1,
        total_return,
        local_return,
        fx_base: fx.map(|(base, _)| base),
        fx_end: fx.map(|(_, end)| end),
        stale,
    }
}

/// The seed-like report, final as of 2023-09-01 (horizon end 2023-08-14).
///
/// Benchmark 沪深300: 4000.00 → 3800.00 = −5.00 %.
/// 芯片算力: 海光信息 60.00 → 73.05 = +21.75 %; 商汤科技 HKD 2.000 → 2.200 = +10.00 % local,
///   FX 0.8800 → 0.8580 (−2.50 %), so in CNY 1.10 × 0.975 − 1 = +7.25 %.
///   Basket (21.75 + 7.25) / 2 = +14.50 %; excess 14.50 − (−5.00) = +19.50 pp → 看好, held.
/// 通信: 中国移动 80.00 → 84.00 = +5.00 %; 锐捷网络 50.00 → 40.00 = −20.00 % (stale: last close
///   2023-08-04); 数据港 excluded (no base close).
///   Basket (5.00 − 20.00) / 2 = −7.50 %; excess −7.50 + 5.00 = −2.50 pp → 中性, not held.
/// Whole basket (4 companies): (21.75 + 7.25 + 5.00 − 20.00) / 4 = +3.50 %; excess +8.50 pp
///   → 中性, not held; so the report's status is not held.
pub fn verdict() -> Verdict {
    let hygon = member("688041.SH", "海光信息", ("2023-02-14", 60.0), ("2023-08-14", 73.05), (0.2175, 0.2175), None, false);
    let sensetime = member("0020.HK", "商汤科技", ("2023-02-14", 2.0), ("2023-08-14", 2.2), (0.0725, 0.10), Some((0.88, 0.858)), false);
    let mobile = member("600941.SH", "中国移动", ("2023-02-14", 80.0), ("2023-08-14", 84.0), (0.05, 0.05), None, false);
    let ruijie = member("301165.SZ", "锐捷网络", ("2023-02-14", 50.0), ("2023-08-04", 40.0), (-0.20, -0.20), None, true);
    let athub =
        ExcludedMember {
            symbol: symbol("603881.SH"), name: "数据港".to_string(), reason: "no close on or before 2023-02-14".to_string()
        };
    let chips = GroupVerdict {
        name: "芯片算力".to_string(),
        name_en: "chips & compute".to_string(),
        total_return: 0.145,
        excess: 0.195,
        implied_rating: "看好".to_string(),
        implied_rating_en: "overweight".to_string(),
        held: true,
        status: Status::Held,
        best_excess: Some(0.312),
        best_excess_date: Some(date("2023-05-10")),
        worst_excess: Some(0.012),
        worst_excess_date: Some(date("2023-02-15")),
        members: vec![hygon.clone(), sensetime.clone()],
        excluded: vec![],
        path: path(&[("2023-02-15", 0.012), ("2023-03-15", 0.081), ("2023-05-10", 0.312), ("2023-06-15", 0.226), ("2023-08-14", 0.195)]),
    };
    let telecom = GroupVerdict {
        name: "通信".to_string(),
        name_en: "communications".to_string(),
        total_return: -0.075,
        excess: -0.025,
        implied_rating: "中性".to_string(),
        implied_rating_en: "neutral".to_string(),
        held: false,
        status: Status::NotHeld,
        best_excess: Some(0.064),
        best_excess_date: Some(date("2023-05-10")),
        worst_excess: Some(-0.118),
        worst_excess_date: Some(date("2023-06-15")),
        members: vec![mobile.clone(), ruijie.clone()],
        excluded: vec![athub.clone()],
        path: path(&[("2023-02-15", -0.004), ("2023-03-15", 0.021), ("2023-05-10", 0.064), ("2023-06-15", -0.118), ("2023-08-14", -0.025)]),
    };
    let basket = GroupVerdict {
        name: "全部标的".to_string(),
        name_en: "whole basket".to_string(),
        total_return: 0.035,
        excess: 0.085,
        implied_rating: "中性".to_string(),
        implied_rating_en: "neutral".to_string(),
        held: false,
        status: Status::NotHeld,
        best_excess: Some(0.188),
        best_excess_date: Some(date("2023-05-10")),
        worst_excess: Some(0.004),
        worst_excess_date: Some(date("2023-02-15")),
        members: vec![hygon, sensetime, mobile, ruijie],
        excluded: vec![athub],
        path: path(&[("2023-02-15", 0.004), ("2023-03-15", 0.051), ("2023-05-10", 0.188), ("2023-06-15", 0.054), ("2023-08-14", 0.085)]),
    };
    Verdict {
        report_id: "zheshang-2023-02-14-chatgpt".to_string(),
        title: "ChatGPT研究框架（AIGC算力时代系列报告）".to_string(),
        broker: "浙商证券".to_string(),
        rating: "看好".to_string(),
        rating_en: "overweight".to_string(),
        report_date: date("2023-02-14"),
        horizon_end: date("2023-08-14"),
        as_of: date("2023-09-01"),
        end_date: date("2023-08-14"),
        status: Status::NotHeld,
        days_left: 0,
        currency: CurrencyMode::Cny,
        benchmark: BenchmarkReturn {
            symbol: symbol("000300.SH"),
            name: "沪深300".to_string(),
            base_date: date("2023-02-14"),
            base_close: 4000.0,
            end_date: date("2023-08-14"),
            end_close: 3800.0,
            total_return: -0.05,
        },
        sectors: vec![chips, telecom],
        basket,
        warnings: vec![
            "数据港 603881.SH is excluded from 通信: no close on or before 2023-02-14".to_string(),
            "锐捷网络 301165.SZ: latest close 2023-08-04 is stale at 2023-08-14".to_string(),
        ],
        method: "Equal-weight buy-and-hold baskets of adjusted closes in CNY (HKD and USD at each date's FX rate) vs 沪深300 000300.SH, \
                 from the base close on or before 2023-02-14 to the close on or before 2023-08-14."
            .to_string(),
    }
}

/// The same report as of 2023-05-19: pending, 87 days left (12 in May after the 19th, 30 in
/// June, 31 in July, 14 in August). The numbers are reused as they are; only the dates move
/// (锐捷网络 stays stale, its last close on 2023-05-10).
pub fn pending_verdict() -> Verdict {
    let mut verdict = verdict();
    verdict.as_of = date("2023-05-19");
    verdict.end_date = date("2023-05-19");
    verdict.benchmark.end_date = date("2023-05-19");
    verdict.status = Status::Pending;
    verdict.days_left = 87;
    verdict.warnings[1] = "锐捷网络 301165.SZ: latest close 2023-05-10 is stale at 2023-05-19".to_string();
    verdict.method = verdict.method.replace("on or before 2023-08-14", "on or before 2023-05-19");
    // 通信's path up to 2023-05-19 is −0.4, +2.1, +6.4 pp: its worst is now −0.40 pp on 2023-02-15.
    verdict.sectors[1].worst_excess = Some(-0.004);
    verdict.sectors[1].worst_excess_date = Some(date("2023-02-15"));
    for group in verdict.sectors.iter_mut().chain(std::iter::once(&mut verdict.basket)) {
        group.status = Status::Pending;
        group.path.retain(|point| point.date <= date("2023-05-19"));
        for member in &mut group.members {
            member.end_date = if member.stale { date("2023-05-10") } else { date("2023-05-19") };
        }
    }
    verdict
}

/// A second, older report whose rating held, for the ledger. Its basket +12.00 % against a
/// benchmark at +1.00 % is +11.00 pp → 看好 = its rating.
pub fn held_verdict() -> Verdict {
    let mut verdict = verdict();
    verdict.report_id = "example-2022-06-01-cloud".to_string();
    verdict.title = "云计算行业深度".to_string();
    verdict.broker = "示例证券".to_string();
    verdict.report_date = date("2022-06-01");
    verdict.horizon_end = date("2022-12-01");
    verdict.end_date = date("2022-12-01");
    verdict.status = Status::Held;
    verdict.benchmark.total_return = 0.01;
    verdict.basket.total_return = 0.12;
    verdict.basket.excess = 0.11;
    verdict.basket.implied_rating = "看好".to_string();
    verdict.basket.implied_rating_en = "overweight".to_string();
    verdict.basket.held = true;
    verdict.basket.status = Status::Held;
    verdict
}

fn mover(code: &str, name: &str, week_return: f64) -> MemberMove {
    MemberMove { symbol: symbol(code), name: name.to_string(), week_return }
}

/// The week 2023-W20 (Mon 2023-05-15 to Fri 2023-05-19), measured from the close of Friday
/// 2023-05-12. Benchmark: −1.00 % in the week, +1.50 % since the report. For simple figures the
/// sectors' week returns here are the plain means of their members' (rendering does not care
/// how they were computed).
///
/// 芯片算力: members' week +4.50 % and +1.50 % → (4.50 + 1.50) / 2 = +3.00 %; week excess
///   3.00 − (−1.00) = +4.00 pp; since report +20.00 %, excess 20.00 − 1.50 = +18.50 pp → 看好.
/// 通信: +0.50 % and −4.50 % → −2.00 %; week excess −1.00 pp; since report +1.00 %, excess
///   −0.50 pp → 中性.
/// Basket: (4.50 + 1.50 + 0.50 − 4.50) / 4 = +0.50 %; week excess +1.50 pp; since report
///   +10.50 %, excess +9.00 pp → 中性.
pub fn weekly() -> WeeklySummary {
    let hygon = mover("688041.SH", "海光信息", 0.045);
    let sensetime = mover("0020.HK", "商汤科技", 0.015);
    let mobile = mover("600941.SH", "中国移动", 0.005);
    let ruijie = mover("301165.SZ", "锐捷网络", -0.045);
    let sector =
        |name: &str, name_en: &str, figures: [f64; 4], implied: (&str, &str), best: Vec<MemberMove>, worst: Vec<MemberMove>| SectorWeek {
            name: name.to_string(),
            name_en: name_en.to_string(),
            week_return: figures[0],
            since_report_return: figures[1],
            week_excess: figures[2],
            since_report_excess: figures[3],
            implied_rating: implied.0.to_string(),
            implied_rating_en: implied.1.to_string(),
            best,
            worst,
        };
    let chips = sector(
        "芯片算力",
        "chips & compute",
        [0.03, 0.20, 0.04, 0.185],
        ("看好", "overweight"),
        vec![hygon.clone(), sensetime.clone()],
        vec![sensetime.clone(), hygon.clone()],
    );
    let telecom = sector(
        "通信",
        "communications",
        [-0.02, 0.01, -0.01, -0.005],
        ("中性", "neutral"),
        vec![mobile.clone(), ruijie.clone()],
        vec![ruijie.clone(), mobile.clone()],
    );
    let basket = sector(
        "全部标的",
        "whole basket",
        [0.005, 0.105, 0.015, 0.09],
        ("中性", "neutral"),
        vec![hygon.clone(), sensetime.clone(), mobile.clone()],
        vec![ruijie, mobile, sensetime],
    );
    WeeklySummary {
        report_id: "zheshang-2023-02-14-chatgpt".to_string(),
        title: "ChatGPT研究框架（AIGC算力时代系列报告）".to_string(),
        rating: "看好".to_string(),
        rating_en: "overweight".to_string(),
        report_date: date("2023-02-14"),
        horizon_end: date("2023-08-14"),
        week: "2023-W20".parse().unwrap(),
        week_start: date("2023-05-15"),
        week_end: date("2023-05-19"),
        as_of: date("2023-05-19"),
        previous_as_of: date("2023-05-12"),
        days_left: 87,
        currency: CurrencyMode::Cny,
        benchmark_name: "沪深300".to_string(),
        benchmark_week_return: -0.01,
        benchmark_since_report_return: 0.015,
        sectors: vec![chips, telecom],
        basket,
        freshness: vec![
            MarketFreshness { market: "SH".to_string(), latest_close: Some(date("2023-05-19")) },
            MarketFreshness { market: "SZ".to_string(), latest_close: Some(date("2023-05-19")) },
            MarketFreshness { market: "HK".to_string(), latest_close: Some(date("2023-05-19")) },
        ],
        paths: vec![
            NamedPath {
                name: "芯片算力".to_string(),
                points: path(&[("2023-02-15", 0.012), ("2023-03-15", 0.081), ("2023-05-10", 0.212), ("2023-05-19", 0.185)]),
            },
            NamedPath {
                name: "通信".to_string(),
                points: path(&[("2023-02-15", -0.004), ("2023-03-15", 0.021), ("2023-05-10", 0.004), ("2023-05-19", -0.005)]),
            },
            NamedPath {
                name: "全部标的".to_string(),
                points: path(&[("2023-02-15", 0.004), ("2023-03-15", 0.051), ("2023-05-10", 0.108), ("2023-05-19", 0.09)]),
            },
        ],
        stale_members: vec![StaleMember {
            symbol: symbol("301165.SZ"),
            name: "锐捷网络".to_string(),
            last_close: Some(date("2023-05-10")),
        }],
        warnings: vec!["数据港 603881.SH is excluded from 通信: no close on or before 2023-02-14".to_string()],
        method: "Equal-weight buy-and-hold baskets of adjusted closes in CNY (HKD and USD at each date's FX rate) vs 沪深300 000300.SH; \
                 week from the close of 2023-05-12 to the close of 2023-05-19, since report from the base close on or before 2023-02-14."
            .to_string(),
    }
}
