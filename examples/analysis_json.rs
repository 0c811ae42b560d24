//! Prints a verdict or a weekly summary as JSON, straight from `pipeline` — a whole process
//! to time and measure (`/usr/bin/time -v`) without the CLI's rendering.
//!
//! ```text
//! cargo run --release --example analysis_json -- DB verdict REPORT_ID AS_OF        # AS_OF: 2023-12-31
//! cargo run --release --example analysis_json -- DB verdict-all AS_OF
//! cargo run --release --example analysis_json -- DB weekly REPORT_ID WEEK          # WEEK: 2023-W20
//! ```
//!
//! Options are the defaults (CNY, stale after 5 benchmark trading days); set
//! `ANALYSIS_CURRENCY=local` for local-currency returns.

use chrono::NaiveDate;
use ratingwatch::analysis::model::CurrencyMode;
use ratingwatch::pipeline::{self, AnalysisOptions};
use ratingwatch::store::Store;

const USAGE: &str = "usage: analysis_json DB (verdict REPORT_ID AS_OF | verdict-all AS_OF | weekly REPORT_ID WEEK)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |index: usize| args.get(index).map(String::as_str).ok_or(USAGE);
    let store = Store::open(std::path::Path::new(arg(0)?))?;
    let mut options = AnalysisOptions::default();
    if std::env::var("ANALYSIS_CURRENCY").is_ok_and(|c| c.eq_ignore_ascii_case("local")) {
        options.currency = CurrencyMode::Local;
    }
    let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| format!("`{text}`: {e}; expected 2023-12-31"));
    let json = match arg(1)? {
        "verdict" => serde_json::to_string_pretty(&pipeline::verdict(&store, &store.report(arg(2)?)?, date(arg(3)?)?, &options)?)?,
        "verdict-all" => serde_json::to_string_pretty(&pipeline::verdict_all(&store, date(arg(2)?)?, &options)?)?,
        "weekly" => serde_json::to_string_pretty(&pipeline::weekly(
            &store,
            &store.report(arg(2)?)?,
            &pipeline::WeekSelection::Week(arg(3)?.parse()?),
            &options,
            &ratingwatch::ratings::BrokerBook::load(None)?,
        )?)?,
        _ => return Err(USAGE.into()),
    };
    println!("{json}");
    Ok(())
}
