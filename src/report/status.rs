//! `ratingwatch status`: the service's state ([`StatusReport`], gathered by
//! [`crate::status::collect`]) as text or JSON.

use chrono::NaiveDate;
use comfy_table::Table;

use super::{Format, json};
use crate::status::StatusReport;

/// The formats [`render_status`] writes; any other renders as the text.
pub const STATUS_FORMATS: &[Format] = &[Format::Table, Format::Json];

use super::pages::local_time as local;

fn date_or_dash(date: Option<NaiveDate>) -> String {
    date.map_or_else(|| "-".to_string(), |d| d.to_string())
}

/// The status as text: each job's last and next run, per-market freshness, stale securities
/// and the last sync, times in the configured zone. JSON is the report serialized.
/// Tables are fitted to `width` terminal columns when given, drawn at full width when `None`.
pub fn render_status(report: &StatusReport, format: Format, width: Option<u16>) -> String {
    if format == Format::Json {
        return json(report);
    }
    let timezone = report.timezone.zone();
    let mut out = String::new();
    let running = if report.service_running { "running" } else { "not running" };
    out.push_str(&format!("service: {running} (database {}, times in {})\n\n", report.database, report.timezone));

    let mut jobs = Table::new();
    jobs.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
    super::doc::fit(&mut jobs, width);
    jobs.set_header(["job", "schedule", "last run", "outcome", "took", "next run"]);
    for job in &report.jobs {
        let (last, outcome, took) = match &job.last_run {
            Some(run) => (
                local(run.started_at, timezone),
                match &run.error {
                    Some(error) => format!("{}: {error}", run.outcome.as_str()),
                    None => run.outcome.as_str().to_string(),
                },
                run.duration_secs.map_or_else(|| "-".to_string(), |s| format!("{s} s")),
            ),
            None => ("never".to_string(), "-".to_string(), "-".to_string()),
        };
        let next = job.next_run.map_or_else(|| "never".to_string(), |t| local(t, timezone));
        jobs.add_row([job.job.name().to_string(), job.schedule.clone(), last, outcome, took, next]);
    }
    out.push_str(&format!("{jobs}\n\n"));

    let mut markets = Table::new();
    markets.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
    super::doc::fit(&mut markets, width);
    markets.set_header(["market", "securities", "latest price", "without prices"]);
    for market in &report.markets {
        markets.add_row([
            market.market.to_string(),
            market.securities.to_string(),
            date_or_dash(market.latest_price_date),
            market.without_prices.to_string(),
        ]);
    }
    out.push_str(&format!("{markets}\n\n"));

    if report.stale.is_empty() {
        out.push_str(&format!("no stale securities (limit: {} trading days)\n", report.stale_after_trading_days));
    } else {
        out.push_str(&format!(
            "{} stale securities (latest close more than {} trading days old):\n",
            report.stale.len(),
            report.stale_after_trading_days
        ));
        for stale in &report.stale {
            let behind = stale.trading_days_behind.map_or_else(|| "no prices".to_string(), |days| format!("{days} trading days behind"));
            out.push_str(&format!("  {} {}: {} ({behind})\n", stale.symbol, stale.name, date_or_dash(stale.latest_close)));
        }
    }

    match (report.benchmark_latest_close, report.benchmark_weekdays_behind) {
        (Some(latest), Some(behind)) if behind > report.stale_after_trading_days as usize => out.push_str(&format!(
            "the benchmark's latest close is {latest}, {behind} weekdays ago: every price is behind; run `ratingwatch sync`\n"
        )),
        (None, _) => out.push_str("the benchmark has no prices: run `ratingwatch sync` or `ratingwatch import prices`\n"),
        _ => {}
    }

    match &report.last_sync {
        None => out.push_str("\nno sync has run yet\n"),
        Some(sync) => {
            out.push_str(&format!(
                "\nlast sync #{} ({}) started {}: {}, {} securities updated, {} bars written, {} failures\n",
                sync.id,
                sync.trigger,
                local(sync.started_at, timezone),
                sync.outcome,
                sync.securities_updated,
                sync.bars_written,
                sync.failures.len()
            ));
            for failure in &sync.failures {
                let provider = failure.provider.as_deref().map(|p| format!(" via {p}")).unwrap_or_default();
                out.push_str(&format!("  {}{provider}: {}\n", failure.symbol, failure.reason));
            }
        }
    }
    if !report.deliveries.is_empty() {
        out.push_str("\nnotifications (`ratingwatch notify outbox` lists every attempt):\n");
        for channel in &report.deliveries {
            out.push_str(&format!(
                "  {}: {} pending, {} sent, {} failed, {} given up",
                channel.channel, channel.pending, channel.sent, channel.failed, channel.expired
            ));
            if let Some(oldest) = channel.oldest_pending {
                out.push_str(&format!(", oldest pending since {}", local(oldest, timezone)));
            }
            if channel.pending + channel.failed + channel.expired > 0
                && let Some(error) = &channel.last_error
            {
                out.push_str(&format!("; last error: {}", error.chars().take(160).collect::<String>()));
            }
            out.push('\n');
        }
    }
    out
}
