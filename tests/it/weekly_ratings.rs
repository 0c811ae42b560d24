//! The weekly summary's "new ratings on the watchlist this week" (issue 17 item 7): which
//! stored ratings it takes, in which order, with which verdict, and how each format says it.

use std::path::Path;

use chrono::NaiveDate;
use serde_json::Value;

use ratingwatch::analysis::ratings::CallStatus;
use ratingwatch::pipeline::{self, AnalysisOptions, WeekSelection};
use ratingwatch::ratings::{BrokerBook, Change};
use ratingwatch::report::{self, Format, RenderOptions};
use ratingwatch::store::Store;

use crate::support::{self, SMALL_REPORT};

fn d(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, month, day).unwrap()
}

use crate::support::rating_record as rating;

/// The small report and its prices, with six ratings around 2023-W20 (Mon 05-15 … Sun 05-21):
/// three inside it on the watchlist, one the Sunday before, one the Monday after, and one in
/// the week on a company not on the watchlist (贵州茅台).
fn store_with_ratings(dir: &Path) -> Store {
    let mut store = support::seeded_store(dir);
    store.load_report(&support::small_report(), chrono::Utc::now()).unwrap();
    support::import_small_report_prices(|| support::ratingwatch(dir));
    let records = vec![
        rating("AP-MAINTAINED", "600941.SH", "中国移动", "华泰证券", d(5, 15), "买入", Change::Maintained, Some("买入"), Some(120.0)),
        rating("AP-UP", "300308.SZ", "中际旭创", "国泰君安", d(5, 17), "增持", Change::Up, Some("中性"), None),
        rating("AP-FIRST", "301165.SZ", "锐捷网络", "中信证券", d(5, 20), "买入", Change::FirstCoverage, None, Some(55.5)),
        rating("AP-BEFORE", "600941.SH", "中国移动", "华泰证券", d(5, 14), "买入", Change::Up, Some("增持"), None),
        rating("AP-AFTER", "600941.SH", "中国移动", "华泰证券", d(5, 22), "买入", Change::Maintained, Some("买入"), None),
        rating("AP-OFF-LIST", "600519.SH", "贵州茅台", "华泰证券", d(5, 16), "买入", Change::Down, Some("买入"), None),
    ];
    store.upsert_ratings(&records, chrono::Utc::now()).unwrap();
    store
}

fn w20(store: &Store, selection: WeekSelection) -> ratingwatch::analysis::model::WeeklySummary {
    let report = store.report(SMALL_REPORT).unwrap();
    pipeline::weekly(store, &report, &selection, &AnalysisOptions::default(), &BrokerBook::load(None).unwrap()).unwrap()
}

#[test]
fn the_weeks_ratings_on_the_watchlist_changes_and_first_coverage_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_ratings(dir.path());
    let summary = w20(&store, WeekSelection::Week("2023-W20".parse().unwrap()));
    // In the week and on the watchlist: AP-MAINTAINED (05-15), AP-UP (05-17), AP-FIRST (Saturday
    // 05-20). AP-BEFORE (Sunday 05-14) and AP-AFTER (Monday 05-22) are outside the week, and
    // 贵州茅台 is not on the small report's watchlist. Order: the change (05-17) and the first
    // coverage (05-20) by date, then the maintained call.
    let codes: Vec<&str> = summary.new_ratings.iter().map(|call| call.record.info_code.as_str()).collect();
    assert_eq!(codes, ["AP-UP", "AP-FIRST", "AP-MAINTAINED"]);
    let [up, first, maintained] = &summary.new_ratings[..] else { unreachable!() };
    // Scored as of Sunday 05-21: 国泰君安's stock rule runs 12 months (05-17 → 2024-05-17) and
    // 华泰证券's 6 (05-15 → 11-15), both pending; 中信证券 has no rule in data/brokers.toml.
    assert_eq!((up.score.status, up.score.horizon_end), (CallStatus::Pending, Some(NaiveDate::from_ymd_opt(2024, 5, 17).unwrap())));
    assert_eq!((maintained.score.status, maintained.score.horizon_end), (CallStatus::Pending, Some(d(11, 15))));
    assert_eq!(first.score.status, CallStatus::Unscored);
    assert!(first.score.reason.as_deref().unwrap().starts_with("broker rule unknown: 中信证券"), "{:?}", first.score.reason);

    let markdown = report::render_weekly_with(&summary, Format::Markdown, &RenderOptions::default());
    let section = markdown.split("## New ratings on the watchlist this week").nth(1).expect("the section").split("## Data").next().unwrap();
    let rows: Vec<&str> = section.lines().filter(|line| line.starts_with("| 2023-")).collect();
    assert_eq!(rows.len(), 3, "{section}");
    assert!(rows[0].contains("中际旭创 300308.SZ") && rows[0].contains("增持") && rows[0].contains("up (was 中性)"), "{}", rows[0]);
    assert!(rows[0].contains("pending, horizon end 2024-05-17 (12 months)"), "{}", rows[0]);
    assert!(
        rows[1].contains("first coverage") && rows[1].contains("55.50") && rows[1].contains("unscored: broker rule unknown"),
        "{}",
        rows[1]
    );
    assert!(rows[2].contains("maintained (was 买入)") && rows[2].contains("120.00"), "{}", rows[2]);
    assert!(rows[2].contains("pending, horizon end 2023-11-15 (6 months)"), "{}", rows[2]);
    // The full reason under the table.
    assert!(section.contains("AP-FIRST 中信证券 买入 on 锐捷网络: broker rule unknown: 中信证券"), "{section}");

    // The chat digest: the change and the first coverage one line each, the maintained counted.
    let digest = report::weekly_digest(&summary, &RenderOptions::default(), "");
    assert_eq!(
        digest.new_ratings,
        [
            "new rating 2023-05-17: 中际旭创, 国泰君安 增持, up (was 中性), pending, horizon end 2024-05-17 (12 months)",
            "new rating 2023-05-20: 锐捷网络, 中信证券 买入, first coverage, target 55.50, unscored: broker rule unknown",
            "1 rating maintained this week",
        ]
    );

    // CSV: one `new_rating` row each after the sectors, in the same order, with the rating columns.
    let csv = report::render_weekly_with(&summary, Format::Csv, &RenderOptions::default());
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let rating_rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).filter(|r| &r[column("kind")] == "new_rating").collect();
    let csv_codes: Vec<&str> = rating_rows.iter().map(|r| &r[column("info_code")]).collect();
    assert_eq!(csv_codes, ["AP-UP", "AP-FIRST", "AP-MAINTAINED"]);
    assert_eq!((&rating_rows[0][column("change")], &rating_rows[0][column("previous")]), ("up", "中性"));
    assert_eq!((&rating_rows[2][column("status")], &rating_rows[2][column("horizon_end")]), ("pending", "2023-11-15"));
}

#[test]
fn a_summary_as_of_a_day_takes_the_ratings_published_by_then() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_ratings(dir.path());
    // As of Wednesday 05-17: AP-MAINTAINED (05-15) and AP-UP (05-17); AP-FIRST (05-20) is later.
    let summary = w20(&store, WeekSelection::AsOf(d(5, 17)));
    let codes: Vec<&str> = summary.new_ratings.iter().map(|call| call.record.info_code.as_str()).collect();
    assert_eq!(codes, ["AP-UP", "AP-MAINTAINED"]);
}

#[test]
fn a_week_without_ratings_says_none_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_ratings(dir.path());
    // W33 (08-14 … 08-20) has no rating stored.
    let summary = w20(&store, WeekSelection::Week("2023-W33".parse().unwrap()));
    assert!(summary.new_ratings.is_empty());
    let markdown = report::render_weekly_with(&summary, Format::Markdown, &RenderOptions::default());
    let mentions: Vec<&str> = markdown.lines().filter(|line| line.contains("New ratings")).collect();
    assert_eq!(mentions, ["New ratings on the watchlist this week: none."]);
    assert!(report::weekly_digest(&summary, &RenderOptions::default(), "").new_ratings.is_empty());
    let json: Value = serde_json::from_str(&report::render_weekly_with(&summary, Format::Json, &RenderOptions::default())).unwrap();
    assert_eq!(json["new_ratings"], Value::Array(vec![]));
}

#[test]
fn json_new_ratings_carry_the_ratings_list_fields() {
    let dir = tempfile::tempdir().unwrap();
    store_with_ratings(dir.path());
    let stdout = |args: &[&str]| {
        let output = support::ratingwatch(dir.path()).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    let weekly = stdout(&["report", "--report", SMALL_REPORT, "--week", "2023-W20", "--format", "json"]);
    let new_ratings = weekly["new_ratings"].as_array().expect("a new_ratings array");
    assert_eq!(new_ratings.len(), 3);
    let up = &new_ratings[0];
    assert_eq!(
        (&up["info_code"], &up["symbol"], &up["broker"], &up["date"], &up["rating"], &up["change"], &up["previous"], &up["status"]),
        (
            &"AP-UP".into(),
            &"300308.SZ".into(),
            &"国泰君安".into(),
            &"2023-05-17".into(),
            &"增持".into(),
            &"up".into(),
            &"中性".into(),
            &"pending".into()
        )
    );
    assert_eq!((&up["horizon_end"], &up["target_price"], &up["reason"]), (&"2024-05-17".into(), &Value::Null, &Value::Null));
    // Every field a `ratings list --format json` object has, under the same name.
    let listed = stdout(&["ratings", "list", "--symbol", "300308.SZ", "--as-of", "2023-05-21", "--format", "json"]);
    let listed = &listed.as_array().unwrap()[0];
    let keys = |value: &Value| value.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(up), keys(listed));
    // Scored as of the week's Sunday, it is the listing's object as of that day.
    assert_eq!(up, listed);
}
