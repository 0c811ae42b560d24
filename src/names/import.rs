//! Instrument CSV files for `ratingwatch instruments import`: `symbol,name[,name_en,kind,status]`.
//!
//! Pure: text in, instruments out. The first bad row stops the parse with the file, line and
//! column (the same error as price imports), so the caller writes nothing.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use super::{Instrument, Kind, Status};
use crate::csv_import::{CsvRow, CsvRows, ImportError};
use crate::symbol::Symbol;

pub const COLUMNS: [&str; 5] = ["symbol", "name", "name_en", "kind", "status"];

/// The longest name (`name` or `name_en`, in characters) an instrument file may give; a
/// longer one is a row error, never stored or cut silently.
pub const MAX_NAME_CHARS: usize = 200;

/// An error naming the row's line and `column` when `name` is over [`MAX_NAME_CHARS`].
fn too_long<const N: usize>(row: &CsvRow<'_, N>, column: usize, name: &str) -> Result<(), ImportError> {
    match name.chars().count() {
        chars if chars > MAX_NAME_CHARS => {
            Err(row.error(column, format!("{chars} characters long; a name may have at most {MAX_NAME_CHARS}")))
        }
        _ => Ok(()),
    }
}

/// Parses an instrument file. `symbol` takes any form [`Symbol::parse`] accepts (`00700.HK`,
/// `hk00700`, `BABA.N`, `600941`); `name_en` may be empty; `kind` defaults to `stock`,
/// `status` to `listed`. A symbol given twice is an error naming both lines; so is a kind
/// other than `index` for an index symbol, and a name over [`MAX_NAME_CHARS`] characters.
pub fn parse_instruments(file: &Path, reader: impl Read) -> Result<Vec<Instrument>, ImportError> {
    const SYMBOL: usize = 0;
    const NAME: usize = 1;
    let mut rows = CsvRows::open(file, reader, &COLUMNS, &[SYMBOL, NAME], "symbol,name[,name_en,kind]")?;
    let mut out = Vec::new();
    let mut seen: HashMap<Symbol, u64> = HashMap::new();
    while let Some(row) = rows.next_row()? {
        let symbol = Symbol::parse(row.text(SYMBOL)?).map_err(|e| row.error(SYMBOL, e.to_string()))?;
        if symbol.is_fx() {
            return Err(row.error(SYMBOL, format!("{symbol} is an FX pair, not an instrument")));
        }
        if let Some(first) = seen.insert(symbol.clone(), row.line.unwrap_or(0)) {
            return Err(row.error(SYMBOL, format!("{symbol} appears twice (first on line {first})")));
        }
        let name = row.text(NAME)?;
        if name.is_empty() {
            return Err(row.error(NAME, "empty; every instrument needs its listed name"));
        }
        too_long(&row, NAME, name)?;
        let name_en = Some(row.text(2)?).filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(name_en) = &name_en {
            too_long(&row, 2, name_en)?;
        }
        let kind = match row.text(3)? {
            // An index symbol (`000300.SH`, `^HSI.HK`) is an index whatever the file leaves out,
            // so it never matches a company name.
            "" if symbol.is_index() => Kind::Index,
            "" => Kind::Stock,
            text => text.parse::<Kind>().map_err(|e| row.error(3, e))?,
        };
        // The kind must agree with the symbol: an index given as a stock would match a
        // company name.
        if kind != Kind::Index && symbol.is_index() {
            let article = if kind == Kind::Etf { "an" } else { "a" };
            return Err(row.error(3, format!("{symbol} is an index, not {article} {kind}")));
        }
        let status = match row.text(4)? {
            "" => Status::Listed,
            text => text.parse::<Status>().map_err(|e| row.error(4, e))?,
        };
        out.push(Instrument { symbol, name: name.to_string(), name_en, kind, status });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Instrument>, String> {
        parse_instruments(Path::new("list.csv"), text.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn forgiving_symbols_optional_columns_and_defaults() {
        let rows =
            parse("\u{feff}symbol,name,name_en,kind\nhk00700,腾讯控股,Tencent,\nBABA.N,阿里巴巴,,stock\n000300.SH,沪深300,CSI 300,index\n")
                .unwrap();
        let got: Vec<(String, &str, Option<&str>, Kind)> =
            rows.iter().map(|i| (i.symbol.to_string(), i.name.as_str(), i.name_en.as_deref(), i.kind)).collect();
        assert_eq!(
            got,
            [
                ("0700.HK".to_string(), "腾讯控股", Some("Tencent"), Kind::Stock),
                ("BABA.US".to_string(), "阿里巴巴", None, Kind::Stock),
                ("000300.SH".to_string(), "沪深300", Some("CSI 300"), Kind::Index),
            ]
        );
        assert!(rows.iter().all(|i| i.status == Status::Listed));
        // Columns in any order, only the two required ones.
        let rows = parse("name,symbol\n微软,msft\n").unwrap();
        assert_eq!(rows[0].symbol.to_string(), "MSFT.US");
    }

    #[test]
    fn index_symbols_are_indices_unless_the_file_says_otherwise_wrongly() {
        let rows = parse("symbol,name,name_en,kind\n^HSI,恒生指数,Hang Seng Index,\n399006.SZ,创业板指,,\n").unwrap();
        assert_eq!(
            rows.iter().map(|i| (i.symbol.to_string(), i.kind)).collect::<Vec<_>>(),
            [("^HSI.HK".to_string(), Kind::Index), ("399006.SZ".to_string(), Kind::Index)]
        );
        assert_eq!(
            parse("symbol,name,kind\nSPX.US,标普500,stock\n").unwrap_err(),
            "list.csv:2: column kind: ^GSPC.US is an index, not a stock"
        );
        // An SSE or SZSE index the table of global indices does not list is an index too.
        assert_eq!(
            parse("symbol,name,kind\n000300.SH,沪深300,stock\n").unwrap_err(),
            "list.csv:2: column kind: 000300.SH is an index, not a stock"
        );
        assert_eq!(
            parse("symbol,name,name_en,kind\n0700.HK,腾讯,,\n399006.SZ,创业板指,,etf\n").unwrap_err(),
            "list.csv:3: column kind: 399006.SZ is an index, not an etf"
        );
    }

    #[test]
    fn names_over_the_cap_are_row_errors_not_cut() {
        let at_cap = "腾".repeat(MAX_NAME_CHARS);
        let rows = parse(&format!("symbol,name\n0700.HK,{at_cap}\n")).unwrap();
        assert_eq!(rows[0].name.chars().count(), 200);
        // 10 MB of one character: the error gives its length, not the name.
        let huge = "腾".repeat(10 * 1024 * 1024 / 3);
        // (`map` so a failure reports the row count, not 10 MB of name.)
        let err = parse(&format!("symbol,name\n0700.HK,腾讯\n9988.HK,{huge}\n")).map(|rows| rows.len()).unwrap_err();
        assert_eq!(err, "list.csv:3: column name: 3495253 characters long; a name may have at most 200");
        let err = parse(&format!("symbol,name,name_en\n0700.HK,腾讯,{}\n", "T".repeat(201))).unwrap_err();
        assert_eq!(err, "list.csv:2: column name_en: 201 characters long; a name may have at most 200");
    }

    #[test]
    fn errors_name_file_line_and_column() {
        assert_eq!(
            parse("symbol,name\n0700.HK,腾讯\nXX.ZZ,坏\n").unwrap_err().split(" (valid").next().unwrap(),
            "list.csv:3: column symbol: `XX.ZZ` is not a symbol: unknown market suffix `.ZZ`"
        );
        assert_eq!(parse("symbol,name\n0700.HK,\n").unwrap_err(), "list.csv:2: column name: empty; every instrument needs its listed name");
        assert_eq!(
            parse("symbol,name,kind\n0700.HK,腾讯,bond\n").unwrap_err(),
            "list.csv:2: column kind: unknown kind `bond` (expected stock, index, fund or etf)"
        );
        assert_eq!(
            parse("symbol,name\n0700.HK,腾讯\n00700.HK,腾讯控股\n").unwrap_err(),
            "list.csv:3: column symbol: 0700.HK appears twice (first on line 2)"
        );
        assert_eq!(
            parse("symbol,name,ticker\n").unwrap_err(),
            "list.csv:1: column ticker: unknown column; expected the header symbol,name,name_en,kind,status"
        );
        assert_eq!(
            parse("symbol,name_en\n").unwrap_err(),
            "list.csv:1: column name: missing; expected the header symbol,name[,name_en,kind]"
        );
        assert_eq!(
            parse("symbol,name\nUSDCNY.FX,美元\n").unwrap_err(),
            "list.csv:2: column symbol: USDCNY.FX is an FX pair, not an instrument"
        );
        assert!(parse("symbol,name\n0700.HK,腾讯,extra\n").unwrap_err().starts_with("list.csv:2: malformed CSV"));
        let not_utf8 = parse_instruments(Path::new("gbk.csv"), &b"symbol,name\n0700.HK,\xcc\xda\xd1\xb6\n"[..]).unwrap_err();
        assert_eq!((not_utf8.line, not_utf8.column.as_deref()), (Some(2), Some("name")), "{not_utf8}");
        assert!(not_utf8.message.contains("not UTF-8"), "{not_utf8}");
    }
}
