//! Rendering of verdicts, weekly summaries and the ledger; `write_weekly_files`; the
//! `verdict` and `report` commands through the real binary.
//!
//! Every rendered document is computed from the one fixture set, the small report
//! (`tests/fixtures/small-report/`, through `support`); each number in the snapshots is worked
//! out by hand in that folder's README.

mod end_to_end;

use chrono::NaiveDate;
use ratingwatch::analysis::model::{NamedPath, Verdict, WeeklySummary};
use ratingwatch::analysis::{AnalysisOptions, compute_verdict};
use ratingwatch::catalog::{Band, Bound, Boundary, Label, Rating, boundaries, three_tier_bands};
use ratingwatch::report::{
    ChartSpec, Format, Headline, RenderOptions, chart_svg, render_ledger, render_verdict, render_verdict_with, render_weekly,
    write_weekly_files,
};
use serde_json::Value;

use crate::support::{self, ratingwatch};

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// The small report's final verdict: as of 2023-08-31, measured to the horizon end 2023-08-14.
/// Not held: 通信 −7.50 pp 中性, 应用 +15.25 pp 看好, the basket −3.00 pp 中性.
fn verdict() -> Verdict {
    support::small_verdict("2023-08-31")
}

/// The same report as of 2023-05-19: pending, 87 days left.
fn pending_verdict() -> Verdict {
    support::small_verdict("2023-05-19")
}

/// The small report rated 中性 instead of 看好: its basket's implied rating at the horizon end
/// (−3.00 pp) is 中性, so this rating held. A second report for the ledger.
fn held_verdict() -> Verdict {
    neutral_verdict("2023-08-31")
}

/// The small report rated 中性, as of `as_of`.
fn neutral_verdict(as_of: &str) -> Verdict {
    let mut report = support::small_report();
    report.id = "small-neutral-2023-02-14".to_string();
    report.title = "小型测试报告（中性）".to_string();
    report.rating = Rating(1);
    compute_verdict(&report, &support::small_report_closes(), date(as_of), &AnalysisOptions::default()).unwrap()
}

/// The week 2023-W20 (Mon 2023-05-15 to Fri 2023-05-19, from the close of Friday 2023-05-12).
fn weekly() -> WeeklySummary {
    support::small_weekly(20)
}

// ---------------------------------------------------------------------------------------------
// Snapshots of the human formats. The numbers in them are worked out in the fixture's README.

#[test]
fn verdict_table_snapshot() {
    insta::assert_snapshot!(render_verdict(&verdict(), Format::Table));
}

#[test]
fn verdict_markdown_snapshot_pending() {
    insta::assert_snapshot!(render_verdict(&pending_verdict(), Format::Markdown));
}

#[test]
fn weekly_table_snapshot() {
    insta::assert_snapshot!(render_weekly(&weekly(), Format::Table));
}

#[test]
fn weekly_markdown_snapshot() {
    insta::assert_snapshot!(render_weekly(&weekly(), Format::Markdown));
}

#[test]
fn ledger_table_snapshot() {
    let verdicts = [held_verdict(), verdict(), pending_verdict()];
    insta::assert_snapshot!(render_ledger(&verdicts, Format::Table));
}

#[test]
fn ledger_markdown_snapshot() {
    let verdicts = [held_verdict(), verdict()];
    insta::assert_snapshot!(render_ledger(&verdicts, Format::Markdown));
}

#[test]
fn verdict_and_weekly_csv_snapshots() {
    insta::assert_snapshot!("verdict_csv", render_verdict(&verdict(), Format::Csv));
    insta::assert_snapshot!("weekly_csv", render_weekly(&weekly(), Format::Csv));
}

#[test]
fn human_formats_state_the_method_and_the_rating_words() {
    let verdict = verdict();
    for format in [Format::Table, Format::Markdown, Format::Html] {
        let text = render_verdict(&verdict, format);
        assert!(text.contains("Method: Equal-weight buy-and-hold"), "{format}: {text}");
        // 应用 +15.25 pp → 看好 and held; 通信 −7.50 pp → 中性, not held.
        assert!(text.contains("+15.25 pp") && text.contains("-7.50 pp"), "{format}");
        assert!(text.contains("not held"), "{format}");
        let weekly = render_weekly(&weekly(), format);
        assert!(weekly.contains("Method: Equal-weight buy-and-hold"), "{format}");
        assert!(weekly.contains("87 days left"), "{format}");
    }
}

// ---------------------------------------------------------------------------------------------
// The headline: the first line of every human format, one wording per state.

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

#[test]
fn the_headline_states_each_outcome_in_its_own_words() {
    let options = RenderOptions::default();
    let cases = [
        // Final, rated 看好: basket −3.00 pp against ≥ +10 pp, 1000 − (−300) = 1300 bp short.
        (verdict(), "看好 (overweight) not held: -3.00 pp vs ≥ +10 pp (13.00 pp short), final, prices of 2023-08-14"),
        // Final, rated 中性 (−10, +10): −3.00 pp is 700 bp above −10 and 1300 below +10, so the
        // lower line decides, 700 bp clear.
        (held_verdict(), "中性 (neutral) held: -3.00 pp vs > -10 pp (+7.00 pp clear), final, prices of 2023-08-14"),
        // Pending on 2023-05-19 (87 days left), basket +1.73 pp: 1000 − 173 = 827 bp short of 看好…
        (pending_verdict(), "看好 (overweight) not held so far: +1.73 pp vs ≥ +10 pp (8.27 pp short), 87 days left, prices of 2023-05-19"),
        // …and 827 bp inside 中性's upper line (1173 bp above its lower one).
        (
            neutral_verdict("2023-05-19"),
            "中性 (neutral) held so far: +1.73 pp vs < +10 pp (+8.27 pp clear), 87 days left, prices of 2023-05-19",
        ),
        // On the report date: only the base closes; 14 + 31 + 30 + 31 + 30 + 31 + 14 = 181 days
        // from 02-14 to 08-14.
        (
            support::small_verdict("2023-02-14"),
            "看好 (overweight) pending, no close yet on day 0: line ≥ +10 pp, 181 days left, prices of 2023-02-14",
        ),
    ];
    for (verdict, expected) in cases {
        assert_eq!(Headline::of_verdict(&verdict, &options).text, expected);
        for format in [Format::Table, Format::Markdown] {
            let text = render_verdict(&verdict, format);
            let line = first_line(&text);
            // Markdown escapes `<` and `>` (a `\>` renders as `>`).
            let line =
                if format == Format::Markdown { line.trim_matches('*').replace("\\>", ">").replace("\\<", "<") } else { line.to_string() };
            assert_eq!(line, expected, "{format}");
        }
        let html = render_verdict(&verdict, Format::Html);
        let badge = html.find("<p class=\"headline").expect("a badge");
        assert!(badge < html.find("<h1>").unwrap() && badge < html.find("<table>").unwrap(), "the badge leads");
    }
}

#[test]
fn the_weekly_summary_leads_with_the_headline_as_of_the_weeks_end() {
    // W20 is measured to Friday 2023-05-19: the basket's since-report excess +1.73 pp.
    let expected = "看好 (overweight) not held so far: +1.73 pp vs ≥ +10 pp (8.27 pp short), 87 days left, prices of 2023-05-19";
    assert_eq!(first_line(&render_weekly(&weekly(), Format::Table)), expected);
    assert_eq!(first_line(&render_weekly(&weekly(), Format::Markdown)), format!("**{expected}**"));
    let json: Value = serde_json::from_str(&render_weekly(&weekly(), Format::Json)).unwrap();
    assert_eq!(json["headline"]["text"], expected);
    assert_eq!(json["headline"]["state"], "not_held_so_far");
    // W33 (as of 08-18) is after the horizon end 08-14: its headline is the final verdict,
    // measured to 08-14 (basket −3.00 pp), not the week's numbers to 08-18.
    assert_eq!(
        first_line(&render_weekly(&support::small_weekly(33), Format::Table)),
        "看好 (overweight) not held: -3.00 pp vs ≥ +10 pp (13.00 pp short), final, prices of 2023-08-14"
    );
    // The state of each sector in the table: 通信 −1.46 pp 中性, 应用 +12.29 pp 看好.
    let table = render_weekly(&weekly(), Format::Table);
    let row = |name: &str| table.lines().find(|line| line.contains(name)).unwrap().to_string();
    assert!(row("通信 communications").contains("not held so far"), "{table}");
    assert!(row("应用 applications").contains("┆ held so far"), "{table}");
}

#[test]
fn the_json_headline_carries_the_numbers_apart() {
    let text = render_verdict(&verdict(), Format::Json);
    assert!(text.starts_with("{\n  \"headline\": {"), "the headline comes first: {text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    let headline = &json["headline"];
    assert_eq!(headline["state"], "not_held");
    assert_eq!(headline["final"], true);
    assert_eq!(headline["prices_date"], "2023-08-14");
    assert_eq!(headline["line"], serde_json::json!({"op": "≥", "bp": 1000}));
    // −3.00 pp and 13.00 pp short, as fractions.
    assert_eq!(headline["excess"].as_f64(), Some(-0.03));
    assert_eq!(headline["distance"].as_f64(), Some(-0.13));
}

#[test]
fn the_webhook_data_is_the_printed_json_document() {
    // One serialisation: the value the generic webhook sends as `data` equals the document
    // `verdict --format json` and `report --format json` print.
    let options = RenderOptions::default();
    for verdict in [verdict(), pending_verdict()] {
        let printed: Value = serde_json::from_str(&render_verdict(&verdict, Format::Json)).unwrap();
        assert_eq!(ratingwatch::report::verdict_json(&verdict, &options), printed);
    }
    let printed: Value = serde_json::from_str(&render_weekly(&weekly(), Format::Json)).unwrap();
    assert_eq!(ratingwatch::report::weekly_json(&weekly(), &options), printed);
    assert!(printed["headline"]["text"].as_str().unwrap().starts_with("看好 (overweight) not held so far"));
}

// ---------------------------------------------------------------------------------------------
// JSON follows the interface contract.

fn keys(value: &Value) -> Vec<&str> {
    value.as_object().expect("an object").keys().map(String::as_str).collect()
}

fn assert_has_keys(value: &Value, expected: &[&str], what: &str) {
    let present = keys(value);
    for key in expected {
        assert!(present.contains(key), "{what} lacks `{key}`; has {present:?}");
    }
}

#[test]
fn verdict_json_uses_the_contract_field_names_and_fractions() {
    let json: Value = serde_json::from_str(&render_verdict(&verdict(), Format::Json)).unwrap();
    assert_has_keys(
        &json,
        &["report_id", "rating", "report_date", "horizon_end", "as_of", "status", "benchmark", "sectors", "basket"],
        "verdict",
    );
    assert_has_keys(&json["benchmark"], &["symbol", "base_date", "base_close", "end_date", "end_close", "return"], "benchmark");
    let group_keys = [
        "name",
        "return",
        "excess",
        "implied_rating",
        "held",
        "best_excess",
        "best_excess_date",
        "worst_excess",
        "worst_excess_date",
        "members",
    ];
    let member_keys = ["symbol", "name", "base_date", "base_close", "end_date", "end_close", "return", "currency", "stale"];
    for sector in json["sectors"].as_array().unwrap().iter().chain(std::iter::once(&json["basket"])) {
        assert_has_keys(sector, &group_keys, "sector");
        for member in sector["members"].as_array().unwrap() {
            assert_has_keys(member, &member_keys, "member");
        }
    }
    assert_eq!(json["status"], "not_held");
    assert_eq!(json["report_date"], "2023-02-14");
    assert_eq!(json["benchmark"]["symbol"], "000300.SH");
    // Returns are fractions: +5.00 % is 0.05, +15.25 pp is 0.1525.
    let fraction = |value: &Value, expected: f64| (value.as_f64().unwrap() - expected).abs() < 1e-12;
    assert!(fraction(&json["benchmark"]["return"], 0.05), "{}", json["benchmark"]["return"]);
    assert!(fraction(&json["sectors"][1]["excess"], 0.1525), "{}", json["sectors"][1]["excess"]);
    assert_eq!(json["sectors"][1]["implied_rating"], "看好");
    assert_eq!(json["sectors"][1]["members"][0]["currency"], "HKD");
    assert_eq!(json["sectors"][0]["members"][2]["symbol"], "301165.SZ");
    assert_eq!(json["sectors"][0]["members"][2]["stale"], true);
    assert_eq!(json["sectors"][1]["best_excess_date"], "2023-06-01");
}

#[test]
fn ledger_json_counts_held_apart_from_pending() {
    let verdicts = [held_verdict(), verdict(), pending_verdict()];
    let json: Value = serde_json::from_str(&render_ledger(&verdicts, Format::Json)).unwrap();
    // One held, one not held, one pending: 1 of 2 decided ratings held = 0.5.
    assert_eq!(json["held"], 1);
    assert_eq!(json["not_held"], 1);
    assert_eq!(json["pending"], 1);
    assert_eq!(json["held_share"], 0.5);
    assert_eq!(json["reports"].as_array().unwrap().len(), 3);
    assert_eq!(json["reports"][0]["report_id"], "small-neutral-2023-02-14");
    let table = render_ledger(&verdicts, Format::Table);
    assert!(table.contains("1 of 2 ratings held (50 %); 1 pending."), "{table}");
}

// ---------------------------------------------------------------------------------------------
// HTML and the chart.

#[test]
fn html_is_one_self_contained_page_with_the_chart_and_chinese_labels() {
    for html in [render_verdict(&verdict(), Format::Html), render_weekly(&weekly(), Format::Html)] {
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("<html lang=\"zh-CN\">"));
        assert!(html.contains("<svg"), "the chart is inline");
        assert!(html.contains("Noto Sans CJK SC") && html.contains("Microsoft YaHei"), "CJK font fallbacks");
        for name in ["通信", "应用", "全部标的", "中国移动"] {
            assert!(html.contains(name), "{name}");
        }
        // No external asset: nothing is loaded from anywhere (the SVG namespace is an
        // identifier, not a fetch).
        for attribute in ["src=", "href=", "<link", "<script", "@import", "url("] {
            assert!(!html.contains(attribute), "{attribute} in the page");
        }
        assert_eq!(html.matches("http://").count(), html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count());
        assert!(!html.contains("https://"));
    }
}

/// The `points` of every polyline drawn in `colour`, as pixel pairs.
fn polylines(svg: &str, colour: &str) -> Vec<Vec<(i32, i32)>> {
    svg.lines()
        .filter(|line| line.starts_with("<polyline") && line.contains(&format!("stroke=\"{colour}\"")))
        .map(|line| {
            let points = line.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
            points
                .split_whitespace()
                .map(|pair| {
                    let (x, y) = pair.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

/// The pixel y of the axis tick labelled `label` (a `<text>` whose content is the label).
fn text_position(svg: &str, label: &str) -> Option<(i32, i32)> {
    let mut lines = svg.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("<text") && lines.peek().map(|next| next.trim()) == Some(label) {
            let attribute =
                |name: &str| line.split(&format!(" {name}=\"")).nth(1).unwrap().split('"').next().unwrap().parse::<i32>().unwrap();
            return Some((attribute("x"), attribute("y")));
        }
    }
    None
}

/// The boundaries of a three-tier rule 看好/中性/看淡 at `upper_bp` and `lower_bp`.
fn three_tier(upper_bp: i64, lower_bp: i64, labels: [&str; 3]) -> Vec<Boundary> {
    let [top, middle, bottom] = labels.map(|zh| Label::new(zh, zh));
    boundaries(&three_tier_bands(upper_bp, lower_bp, [top, middle, bottom]))
}

fn seed_chart(paths: &[NamedPath], boundaries: &[Boundary]) -> String {
    chart_svg(&ChartSpec {
        title: "ChatGPT研究框架",
        benchmark_name: "沪深300",
        report_date: date("2023-02-14"),
        horizon_end: date("2023-08-14"),
        paths,
        emphasised: Some("全部标的"),
        boundaries,
    })
}

#[test]
fn chart_draws_the_bands_at_the_thresholds_and_marks_the_horizon_end() {
    let verdict = verdict();
    let paths: Vec<NamedPath> = verdict
        .sectors
        .iter()
        .chain(std::iter::once(&verdict.basket))
        .map(|group| NamedPath { name: group.name.clone(), points: group.path.clone() })
        .collect();
    let svg = seed_chart(&paths, &RenderOptions::default().boundaries);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));

    // The upper band (red, dashed) is horizontal at the pixel row of the +10 tick, the lower
    // one (green) at the −10 tick.
    let (_, plus_ten) = text_position(&svg, "+10").expect("a +10 tick");
    let (_, minus_ten) = text_position(&svg, "-10").expect("a -10 tick");
    let upper = polylines(&svg, "#C82828");
    let lower = polylines(&svg, "#1E823C");
    assert!(upper.len() > 5 && lower.len() > 5, "dashed: many short segments");
    assert!(upper.iter().flatten().all(|&(_, y)| y == plus_ten), "upper band at +10");
    assert!(lower.iter().flatten().all(|&(_, y)| y == minus_ten), "lower band at -10");
    assert!(text_position(&svg, "看好 ≥ +10 pp").is_some() && text_position(&svg, "看淡 ≤ -10 pp").is_some());

    // The horizon end: black dashed vertical segments at one x, which is where the sectors'
    // paths end (their last point is on 2023-08-14).
    let black = polylines(&svg, "#000000");
    let vertical: Vec<&Vec<(i32, i32)>> = black.iter().filter(|line| line.len() == 2 && line[0].0 == line[1].0).collect();
    assert!(vertical.len() > 5, "a dashed vertical line");
    let horizon_x = vertical[0][0].0;
    assert!(vertical.iter().all(|line| line[0].0 == horizon_x));
    let basket_line = black.iter().find(|line| line.len() == 11).expect("the basket's path: T0 and ten points");
    assert_eq!(basket_line.last().unwrap().0, horizon_x);
    assert!(text_position(&svg, "horizon end 2023-08-14").is_some());

    // Names are in the legend as text, not measured by plotters, under the plot (below the
    // x axis's date labels and the lowest band line) and inside the 600 px canvas, so a phone
    // that scales the chart to its width shows them with the chart.
    let axis_labels: Vec<i32> = svg
        .lines()
        .zip(svg.lines().skip(1))
        .filter(|(line, next)| line.starts_with("<text") && next.trim().starts_with("2023-"))
        .map(|(line, _)| line.split(" y=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap())
        .collect();
    assert!(!axis_labels.is_empty(), "dated x-axis labels");
    let below_axis = *axis_labels.iter().max().unwrap();
    for name in ["通信", "应用", "全部标的"] {
        let (x, y) = text_position(&svg, name).unwrap_or_else(|| panic!("{name} in the legend"));
        assert!(y > below_axis && y > minus_ten, "{name} at y {y}, the axis labels at {below_axis}");
        assert!((0..600).contains(&x), "{name} at x {x}");
    }
    assert!(svg.contains("width=\"600\""), "the narrow canvas");
}

#[test]
fn chart_uses_the_rules_own_bands() {
    // A rule with +15 / −5 pp bands: the red band sits at the +15 tick's row... when there is
    // one; ticks come every 5 pp on this range, so +15 is labelled.
    let svg = seed_chart(&[], &three_tier(1500, -500, ["看好", "中性", "看淡"]));
    let (_, plus_fifteen) = text_position(&svg, "+15").expect("a +15 tick");
    let (_, minus_five) = text_position(&svg, "-5").expect("a -5 tick");
    assert!(polylines(&svg, "#C82828").iter().flatten().all(|&(_, y)| y == plus_fifteen));
    assert!(polylines(&svg, "#1E823C").iter().flatten().all(|&(_, y)| y == minus_five));
    assert!(text_position(&svg, "看好 ≥ +15 pp").is_some());
    // No path: the legend says why the chart is empty.
    assert!(svg.contains("no trading day after"));
}

#[test]
fn a_five_tier_rule_draws_one_dashed_line_per_boundary() {
    let bound = |bp, inclusive| Some(Bound { bp, inclusive });
    let band = |zh: &str, lower, upper| Band { label: Label::new(zh, zh), lower, upper };
    let bands = [
        band("买入", bound(1500, true), None),
        band("增持", bound(500, true), bound(1500, false)),
        band("中性", bound(-500, false), bound(500, false)),
        band("减持", bound(-1500, false), bound(-500, true)),
        band("卖出", None, bound(-1500, true)),
    ];
    let svg = seed_chart(&[], &boundaries(&bands));
    // Lines at or above zero are red and named by the band above; below zero green, named by
    // the band below; each at its own tick's row.
    for text in ["买入 ≥ +15 pp", "增持 ≥ +5 pp", "减持 ≤ -5 pp", "卖出 ≤ -15 pp"] {
        assert!(text_position(&svg, text).is_some(), "{text}");
    }
    let rows = |colour: &str| {
        let mut rows: Vec<i32> = polylines(&svg, colour).iter().flatten().map(|&(_, y)| y).collect();
        rows.sort();
        rows.dedup();
        rows
    };
    let tick = |text: &str| text_position(&svg, text).unwrap_or_else(|| panic!("a {text} tick")).1;
    assert_eq!(rows("#C82828"), [tick("+15"), tick("+5")]);
    assert_eq!(rows("#1E823C"), [tick("-5"), tick("-15")]);
}

#[test]
fn render_options_put_the_rules_labels_on_the_chart() {
    let options = RenderOptions { boundaries: three_tier(2000, -2000, ["买入", "中性", "卖出"]), ..RenderOptions::default() };
    let html = render_verdict_with(&verdict(), Format::Html, &options);
    assert!(html.contains("买入 ≥ +20 pp") && html.contains("卖出 ≤ -20 pp"));
}

// ---------------------------------------------------------------------------------------------
// Weekly files.

#[test]
fn weekly_files_are_written_under_the_report_id_and_iso_week() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_weekly_files(dir.path(), &weekly()).unwrap();
    let folder = dir.path().join("small-2023-02-14");
    assert_eq!(written, vec![folder.join("2023-W20.md"), folder.join("2023-W20.json"), folder.join("2023-W20.html")]);
    let markdown = std::fs::read_to_string(&written[0]).unwrap();
    assert_eq!(markdown, render_weekly(&weekly(), Format::Markdown));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&written[1]).unwrap()).unwrap();
    assert_eq!(json["week"], "2023-W20");
    assert!(std::fs::read_to_string(&written[2]).unwrap().contains("<svg"));
    // Only the three files: no temporary file is left behind.
    let mut names: Vec<String> =
        std::fs::read_dir(&folder).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["2023-W20.html", "2023-W20.json", "2023-W20.md"]);

    // Writing again replaces the files in place.
    assert_eq!(write_weekly_files(dir.path(), &weekly()).unwrap(), written);
}

#[test]
fn weekly_files_refuse_a_report_id_that_could_leave_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("out");
    for bad in ["../escape", "a/b", "..", ""] {
        let mut summary = weekly();
        summary.report_id = bad.to_string();
        let error = write_weekly_files(&inner, &summary).expect_err(bad);
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
        assert!(error.to_string().contains("lowercase letters"), "{error}");
    }
    assert!(!inner.exists() && !dir.path().join("escape").exists(), "nothing was created");

    // A week label that disagrees with the summary's own dates is refused too.
    let mut summary = weekly();
    summary.week = ratingwatch::ids::Week::new(2023, 21).unwrap();
    assert_eq!(write_weekly_files(&inner, &summary).unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
}

// ---------------------------------------------------------------------------------------------
// The commands: bad input exits 2 with a message that says what to do.

fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn malformed_dates_and_weeks_show_the_expected_form() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["verdict", "--as-of", "2023/05/01"], "expected the form 2023-05-19"),
        (&["report", "--as-of", "yesterday"], "expected the form 2023-05-19"),
        (&["report", "--week", "2023-20"], "expected the form 2023-W20"),
        (&["report", "--week", "W20"], "expected the form 2023-W20"),
    ];
    for (args, expected) in cases {
        let assert = ratingwatch(dir.path()).args(args).assert().code(2);
        let stderr = stderr_of(&assert);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn an_unknown_report_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path()).arg("init").assert().success();
    for args in [&["verdict", "no-such-report"][..], &["report", "--report", "no-such-report"]] {
        let assert = ratingwatch(dir.path()).args(args).assert().code(2);
        let stderr = stderr_of(&assert);
        assert!(stderr.contains("no report `no-such-report`") && stderr.contains("zheshang-2023-02-14-chatgpt"), "{stderr}");
    }
}

#[test]
fn an_as_of_date_before_the_report_says_which_dates_work() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path()).arg("init").assert().success();
    let assert = ratingwatch(dir.path()).args(["verdict", "--as-of", "2023-01-31"]).assert().code(2);
    let stderr = stderr_of(&assert);
    assert!(stderr.contains("before the report date 2023-02-14") && stderr.contains("--as-of 2023-02-14 or later"), "{stderr}");

    let assert = ratingwatch(dir.path()).args(["report", "--as-of", "2023-02-13"]).assert().code(2);
    assert!(stderr_of(&assert).contains("--as-of 2023-02-14 or later"));
}

#[test]
fn without_benchmark_prices_the_error_says_what_to_run() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path()).arg("init").assert().success();
    for args in [&["verdict", "--as-of", "2023-08-14"][..], &["report", "--as-of", "2023-05-19"]] {
        let assert = ratingwatch(dir.path()).args(args).assert().code(2);
        let stderr = stderr_of(&assert);
        assert!(stderr.starts_with("error: no prices for the benchmark 沪深300 (000300.SH)"), "{stderr}");
        assert!(stderr.contains("ratingwatch sync") && stderr.contains("ratingwatch import prices --symbol 000300.SH"), "{stderr}");
    }
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let assert = ratingwatch(dir.path()).args(["verdict", "--format", "xml"]).assert().code(2);
    assert!(stderr_of(&assert).contains("possible values: table, markdown, json, csv, html"));
    ratingwatch(dir.path()).args(["verdict", "--all", "zheshang-2023-02-14-chatgpt"]).assert().code(2);
}
