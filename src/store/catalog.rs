//! Reports, companies, sectors and memberships.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Result, Store, StoreError, time_text};
use crate::catalog::{Company, Member, Rating, RatingRule, ReportDef, Sector};
use crate::symbol::{Market, Symbol};

/// What loading a report definition did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadOutcome {
    Added,
    Updated,
    Unchanged,
}

/// One row of `reports list`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportRow {
    pub id: String,
    pub title: String,
    pub broker: String,
    pub report_date: NaiveDate,
    pub rating: String,
    pub companies: usize,
    pub sectors: usize,
}

/// One security on the watchlist, with every sector and tag it has (across the reports asked for).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WatchlistEntry {
    pub symbol: Symbol,
    pub name: String,
    pub name_en: String,
    pub market: String,
    pub currency: String,
    pub sectors: Vec<String>,
    pub tags: Vec<String>,
}

/// The `rating` column's coarse class (its CHECK predates rules with more than three bands):
/// the top band, the bottom band, or one in between. The exact band is in `rating_band`.
fn rating_text(rule: &RatingRule, rating: Rating) -> &'static str {
    if rating == rule.top() {
        "overweight"
    } else if rating == rule.bottom() {
        "underweight"
    } else {
        "neutral"
    }
}

/// The rating from its columns: the band index when stored, else (rows written before bands
/// existed, always three-tier) from the coarse class.
fn rating_from_columns(rule: &RatingRule, band: Option<i64>, text: &str) -> Rating {
    match (band, text) {
        (Some(index), _) if index >= 0 && (index as usize) < rule.bands.len() => Rating(index as usize),
        (_, "overweight") => rule.top(),
        (_, "underweight") => rule.bottom(),
        _ => Rating(1.min(rule.bottom().0)),
    }
}

/// FNV-1a over the definition's canonical JSON: stable across builds, unlike `DefaultHasher`.
fn content_hash(report: &ReportDef) -> String {
    let json = serde_json::to_string(report).unwrap_or_default();
    let hash = json.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3));
    format!("{hash:016x}")
}

fn upsert_security(tx: &rusqlite::Transaction<'_>, symbol: &Symbol, kind: &str, name: &str, name_en: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO securities (symbol, market, currency, kind, name, name_en) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (symbol) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, kind = excluded.kind",
        params![symbol.to_string(), symbol.market().as_str(), symbol.currency().as_str(), kind, name, name_en],
    )?;
    Ok(())
}

impl Store {
    /// Loads a validated report definition. Idempotent: the same definition again changes
    /// nothing; an edited one replaces the report's companies, sectors and memberships.
    pub fn load_report(&mut self, report: &ReportDef, now: DateTime<Utc>) -> Result<LoadOutcome> {
        let hash = content_hash(report);
        self.write(|tx| {
            let existing: Option<String> =
                tx.query_row("SELECT content_hash FROM reports WHERE id = ?1", [&report.id], |r| r.get(0)).optional()?;
            if existing.as_deref() == Some(hash.as_str()) {
                return Ok(LoadOutcome::Unchanged);
            }
            let rule = serde_json::to_string(&report.rule).map_err(|e| StoreError::Conflict(e.to_string()))?;
            let fx = serde_json::to_string(&report.fx).map_err(|e| StoreError::Conflict(e.to_string()))?;
            tx.execute(
                "INSERT INTO reports (id, title, broker, report_date, rating, rating_band, rule, fx, content_hash, loaded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?10, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET title = excluded.title, broker = excluded.broker,
                   report_date = excluded.report_date, rating = excluded.rating, rating_band = excluded.rating_band,
                   rule = excluded.rule,
                   fx = excluded.fx, content_hash = excluded.content_hash, loaded_at = excluded.loaded_at",
                params![
                    report.id,
                    report.title,
                    report.broker,
                    report.report_date,
                    rating_text(&report.rule, report.rating),
                    rule,
                    fx,
                    hash,
                    time_text(now),
                    report.rating.0 as i64
                ],
            )?;
            tx.execute("DELETE FROM companies WHERE report_id = ?1", [&report.id])?;
            tx.execute("DELETE FROM sectors WHERE report_id = ?1", [&report.id])?;
            upsert_security(tx, &report.rule.benchmark, "index", &report.rule.benchmark_name, &report.rule.benchmark_name)?;
            for pair in &report.fx {
                upsert_security(tx, pair, "fx", pair.code(), pair.code())?;
            }
            for (position, company) in report.companies.iter().enumerate() {
                upsert_security(tx, &company.symbol, "stock", &company.name, &company.name_en)?;
                tx.execute(
                    "INSERT INTO companies (report_id, symbol, name, name_en, position) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![report.id, company.symbol.to_string(), company.name, company.name_en, position as i64],
                )?;
                for alternate in &company.alternates {
                    tx.execute(
                        "INSERT INTO alternates (report_id, symbol, alternate) VALUES (?1, ?2, ?3)",
                        params![report.id, company.symbol.to_string(), alternate.to_string()],
                    )?;
                }
            }
            for (position, sector) in report.sectors.iter().enumerate() {
                tx.execute(
                    "INSERT INTO sectors (report_id, name, name_en, position) VALUES (?1, ?2, ?3, ?4)",
                    params![report.id, sector.name, sector.name_en, position as i64],
                )?;
                for (member_position, member) in sector.members.iter().enumerate() {
                    let tags = serde_json::to_string(&member.tags).unwrap_or_else(|_| "[]".into());
                    tx.execute(
                        "INSERT INTO memberships (report_id, sector, symbol, tags, position) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![report.id, sector.name, member.symbol.to_string(), tags, member_position as i64],
                    )?;
                }
            }
            Ok(if existing.is_some() { LoadOutcome::Updated } else { LoadOutcome::Added })
        })
    }

    pub fn reports(&self) -> Result<Vec<ReportRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.title, r.broker, r.report_date, r.rating, r.rule,
                    (SELECT COUNT(*) FROM companies c WHERE c.report_id = r.id),
                    (SELECT COUNT(*) FROM sectors s WHERE s.report_id = r.id),
                    r.rating_band
             FROM reports r ORDER BY r.report_date, r.id",
        )?;
        let rows = stmt.query_map([], |r| {
            let rule: String = r.get(5)?;
            let (text, band) = (r.get::<_, String>(4)?, r.get::<_, Option<i64>>(8)?);
            let label = serde_json::from_str::<RatingRule>(&rule)
                .map(|rule| rule.label(rating_from_columns(&rule, band, &text)).zh.clone())
                .unwrap_or_default();
            Ok(ReportRow {
                id: r.get(0)?,
                title: r.get(1)?,
                broker: r.get(2)?,
                report_date: r.get(3)?,
                rating: label,
                companies: r.get::<_, i64>(6)? as usize,
                sectors: r.get::<_, i64>(7)? as usize,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn report_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT id FROM reports ORDER BY report_date, id")?;
        Ok(stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
    }

    /// The report as it stands in the database (including `watchlist add/remove` edits).
    pub fn report(&self, id: &str) -> Result<ReportDef> {
        let head = self
            .conn
            .query_row("SELECT title, broker, report_date, rating, rule, fx, rating_band FROM reports WHERE id = ?1", [id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, NaiveDate>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                ))
            })
            .optional()?;
        let Some((title, broker, date, rating, rule, fx, rating_band)) = head else {
            let known = self.report_ids()?;
            return Err(StoreError::NotFound(format!(
                "no report `{id}` (known: {})",
                if known.is_empty() { "none; run `ratingwatch init`".to_string() } else { known.join(", ") }
            )));
        };
        let corrupt = |e: serde_json::Error| StoreError::Conflict(format!("report {id}: stored definition is unreadable: {e}"));
        let rule: RatingRule = serde_json::from_str(&rule).map_err(corrupt)?;
        let fx: Vec<Symbol> = serde_json::from_str(&fx).map_err(corrupt)?;

        let mut alternates: BTreeMap<String, Vec<Symbol>> = BTreeMap::new();
        let mut stmt = self.conn.prepare("SELECT symbol, alternate FROM alternates WHERE report_id = ?1 ORDER BY symbol, alternate")?;
        for row in stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (symbol, alternate) = row?;
            if let Ok(alternate) = Symbol::parse(&alternate) {
                alternates.entry(symbol).or_default().push(alternate);
            }
        }
        let mut stmt = self.conn.prepare("SELECT symbol, name, name_en FROM companies WHERE report_id = ?1 ORDER BY position")?;
        let companies = stmt
            .query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter_map(|(symbol, name, name_en)| {
                let alternates = alternates.remove(&symbol).unwrap_or_default();
                Symbol::parse(&symbol).ok().map(|symbol| Company { symbol, name, name_en, alternates })
            })
            .collect();
        let mut stmt = self.conn.prepare("SELECT name, name_en FROM sectors WHERE report_id = ?1 ORDER BY position")?;
        let sector_rows =
            stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
        let mut member_stmt =
            self.conn.prepare("SELECT symbol, tags FROM memberships WHERE report_id = ?1 AND sector = ?2 ORDER BY position, symbol")?;
        let mut sectors = Vec::with_capacity(sector_rows.len());
        for (name, name_en) in sector_rows {
            let members = member_stmt
                .query_map(params![id, name], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .filter_map(|(symbol, tags)| {
                    Symbol::parse(&symbol).ok().map(|symbol| Member { symbol, tags: serde_json::from_str(&tags).unwrap_or_default() })
                })
                .collect();
            sectors.push(Sector { name, name_en, members });
        }
        Ok(ReportDef {
            id: id.to_string(),
            title,
            broker,
            report_date: date,
            rating: rating_from_columns(&rule, rating_band, &rating),
            rule,
            companies,
            sectors,
            fx,
        })
    }

    /// The watchlist: every company of the given report (or of all reports), with its sectors
    /// and tags, in report order.
    pub fn watchlist(&self, report_id: Option<&str>) -> Result<Vec<WatchlistEntry>> {
        if let Some(id) = report_id {
            self.report(id)?; // a clear error for an unknown id
        }
        let mut stmt = self.conn.prepare(
            "SELECT c.symbol, c.name, c.name_en, s.market, s.currency, m.sector, m.tags
             FROM companies c
             JOIN securities s ON s.symbol = c.symbol
             JOIN reports r ON r.id = c.report_id
             LEFT JOIN memberships m ON m.report_id = c.report_id AND m.symbol = c.symbol
             LEFT JOIN sectors sec ON sec.report_id = m.report_id AND sec.name = m.sector
             WHERE ?1 IS NULL OR c.report_id = ?1
             ORDER BY r.report_date, r.id, c.position, sec.position",
        )?;
        let mut entries: Vec<WatchlistEntry> = Vec::new();
        let rows = stmt.query_map([report_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        for row in rows {
            let (symbol, name, name_en, market, currency, sector, tags) = row?;
            let Ok(symbol) = Symbol::parse(&symbol) else { continue };
            let index = match entries.iter().position(|e| e.symbol == symbol) {
                Some(index) => index,
                None => {
                    entries.push(WatchlistEntry { symbol, name, name_en, market, currency, sectors: Vec::new(), tags: Vec::new() });
                    entries.len() - 1
                }
            };
            let entry = &mut entries[index];
            if let Some(sector) = sector
                && !entry.sectors.contains(&sector)
            {
                entry.sectors.push(sector);
            }
            for tag in tags.and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok()).unwrap_or_default() {
                if !entry.tags.contains(&tag) {
                    entry.tags.push(tag);
                }
            }
        }
        Ok(entries)
    }

    /// Adds `symbol` to a sector of a report, registering the company if it is new to the report.
    pub fn add_member(&mut self, report_id: &str, sector: &str, symbol: &Symbol, name: Option<&str>, tags: &[String]) -> Result<()> {
        let report = self.report(report_id)?;
        if !report.sectors.iter().any(|s| s.name == sector) {
            let names: Vec<&str> = report.sectors.iter().map(|s| s.name.as_str()).collect();
            return Err(StoreError::NotFound(format!("report `{report_id}` has no sector `{sector}` (sectors: {})", names.join(", "))));
        }
        if symbol.is_fx() {
            return Err(StoreError::Conflict(format!("{symbol} is a currency pair, not a company")));
        }
        let currency = symbol.currency();
        if currency != report.rule.benchmark.currency()
            && let Some(pair) = currency.cny_pair()
            && !report.fx.contains(&pair)
        {
            return Err(StoreError::Conflict(format!("{symbol} is quoted in {currency}, but report `{report_id}` has no {pair} rate")));
        }
        let known = report.company(symbol).map(|c| c.name.clone());
        let name = name.map(str::to_string).or(known).unwrap_or_else(|| symbol.to_string());
        let tags = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
        self.write(|tx| {
            upsert_security(tx, symbol, "stock", &name, &name)?;
            let position: i64 =
                tx.query_row("SELECT COALESCE(MAX(position) + 1, 0) FROM companies WHERE report_id = ?1", [report_id], |r| r.get(0))?;
            tx.execute(
                "INSERT INTO companies (report_id, symbol, name, name_en, position) VALUES (?1, ?2, ?3, ?3, ?4)
                 ON CONFLICT DO NOTHING",
                params![report_id, symbol.to_string(), name, position],
            )?;
            let member_position: i64 = tx.query_row(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM memberships WHERE report_id = ?1 AND sector = ?2",
                params![report_id, sector],
                |r| r.get(0),
            )?;
            let inserted = tx.execute(
                "INSERT INTO memberships (report_id, sector, symbol, tags, position) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                params![report_id, sector, symbol.to_string(), tags, member_position],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!("{symbol} is already in sector `{sector}` of report `{report_id}`")));
            }
            Ok(())
        })
    }

    /// Removes `symbol` from one sector (or every sector) of a report; a company left in no
    /// sector leaves the report. Stored prices are kept.
    pub fn remove_member(&mut self, report_id: &str, sector: Option<&str>, symbol: &Symbol) -> Result<usize> {
        self.report(report_id)?;
        let symbol_text = symbol.to_string();
        self.write(|tx| {
            let removed = tx.execute(
                "DELETE FROM memberships WHERE report_id = ?1 AND symbol = ?2 AND (?3 IS NULL OR sector = ?3)",
                params![report_id, symbol_text, sector],
            )?;
            if removed == 0 {
                return Err(StoreError::NotFound(format!(
                    "{symbol} is not in {} of report `{report_id}`",
                    sector.map(|s| format!("sector `{s}`")).unwrap_or_else(|| "any sector".into())
                )));
            }
            tx.execute(
                "DELETE FROM companies WHERE report_id = ?1 AND symbol = ?2
                   AND NOT EXISTS (SELECT 1 FROM memberships WHERE report_id = ?1 AND symbol = ?2)",
                params![report_id, symbol_text],
            )?;
            Ok(removed)
        })
    }

    /// Every symbol the product prices: report companies, benchmarks and FX pairs.
    pub fn tracked_symbols(&self) -> Result<Vec<Symbol>> {
        let mut stmt = self.conn.prepare(
            "SELECT symbol FROM securities s
             WHERE kind != 'stock' OR EXISTS (SELECT 1 FROM companies c WHERE c.symbol = s.symbol)
             ORDER BY symbol",
        )?;
        let symbols = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(symbols.iter().filter_map(|s| Symbol::parse(s).ok()).collect())
    }

    /// Whether any loaded report names `symbol`: as a company, an alternate listing, or a
    /// benchmark or FX pair it tracks (for `import prices`, which refuses anything else
    /// unless asked).
    pub fn is_named_by_a_report(&self, symbol: &Symbol) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM companies WHERE symbol = ?1)
                 OR EXISTS (SELECT 1 FROM alternates WHERE alternate = ?1)
                 OR EXISTS (SELECT 1 FROM securities WHERE symbol = ?1 AND kind != 'stock')",
            [symbol.to_string()],
            |r| r.get(0),
        )?)
    }

    /// The earliest report date in the database, if any report is loaded.
    pub fn earliest_report_date(&self) -> Result<Option<NaiveDate>> {
        Ok(self.conn.query_row("SELECT MIN(report_date) FROM reports", [], |r| r.get(0))?)
    }

    /// Registers a security that no report names (for `import prices` of an arbitrary symbol).
    pub fn ensure_security(&mut self, symbol: &Symbol) -> Result<()> {
        let kind = if symbol.is_fx() { "fx" } else { "stock" };
        self.write(|tx| {
            tx.execute(
                "INSERT INTO securities (symbol, market, currency, kind, name, name_en) VALUES (?1, ?2, ?3, ?4, ?1, ?1)
                 ON CONFLICT (symbol) DO NOTHING",
                params![symbol.to_string(), symbol.market().as_str(), symbol.currency().as_str(), kind],
            )?;
            Ok(())
        })
    }

    /// All markets that have at least one tracked security.
    pub fn markets(&self) -> Result<Vec<Market>> {
        let mut stmt = self.conn.prepare("SELECT DISTINCT market FROM securities ORDER BY market")?;
        let markets = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(markets.iter().filter_map(|m| m.parse().ok()).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::catalog::{Band, Bound, Label, parse_report};

    fn five_tier_seed() -> ReportDef {
        let text = include_str!("../../data/reports/zheshang-2023-02-14-chatgpt.toml");
        let mut report = parse_report(Path::new("seed.toml"), text).unwrap();
        let bound = |bp, inclusive| Some(Bound { bp, inclusive });
        let band = |zh: &str, lower, upper| Band { label: Label::new(zh, zh), lower, upper };
        report.rule.bands = vec![
            band("买入", bound(1500, true), None),
            band("增持", bound(500, true), bound(1500, false)),
            band("中性", bound(-500, false), bound(500, false)),
            band("减持", bound(-1500, false), bound(-500, true)),
            band("卖出", None, bound(-1500, true)),
        ];
        report.rating = Rating(3);
        report
    }

    #[test]
    fn a_rating_of_any_band_reads_back() {
        let mut store = Store::open_in_memory().unwrap();
        let report = five_tier_seed();
        store.load_report(&report, Utc::now()).unwrap();
        let stored = store.report(&report.id).unwrap();
        assert_eq!(stored.rule, report.rule);
        assert_eq!(stored.rating, Rating(3));
        assert_eq!(store.reports().unwrap()[0].rating, "减持");
    }

    #[test]
    fn rows_written_before_bands_read_as_three_tiers() {
        let mut store = Store::open_in_memory().unwrap();
        let text = include_str!("../../data/reports/zheshang-2023-02-14-chatgpt.toml");
        let report = parse_report(Path::new("seed.toml"), text).unwrap();
        store.load_report(&report, Utc::now()).unwrap();
        // What an older version left: no band, the class in `rating`, the threshold JSON.
        let legacy = r#"{"benchmark":"000300.SH","benchmark_name":"沪深300","horizon_months":6,"upper_bp":1000,"lower_bp":-1000,
            "overweight":{"zh":"看好","en":"overweight"},"neutral":{"zh":"中性","en":"neutral"},"underweight":{"zh":"看淡","en":"underweight"}}"#;
        for (class, expected) in [("overweight", 0), ("neutral", 1), ("underweight", 2)] {
            store.conn.execute("UPDATE reports SET rating_band = NULL, rating = ?1, rule = ?2", params![class, legacy]).unwrap();
            let stored = store.report(&report.id).unwrap();
            assert_eq!(stored.rule, report.rule);
            assert_eq!(stored.rating, Rating(expected), "{class}");
        }
    }
}
