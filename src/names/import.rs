//! Instrument CSV files for `ratingwatch instruments import`: `symbol,name[,name_en,kind,status]`.
//!
//! Pure: text in, instruments out. The first bad row stops the parse with the file, line and
//! column (the same error as price imports), so the caller writes nothing.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use super::{Instrument, Kind, Status};
use crate::csv_import::ImportError;
use crate::symbol::Symbol;

pub const COLUMNS: [&str; 5] = ["symbol", "name", "name_en", "kind", "status"];

/// Parses an instrument file. `symbol` takes any form [`Symbol::parse`] accepts (`00700.HK`,
/// `hk00700`, `BABA.N`, `600941`); `name_en` may be empty; `kind` defaults to `stock`,
/// `status` to `listed`. A symbol given twice is an error naming both lines.
pub fn parse_instruments(file: &Path, reader: impl Read) -> Result<Vec<Instrument>, ImportError> {
    let fail = |line: Option<u64>, column: Option<&str>, message: String| ImportError {
        file: file.to_path_buf(),
        line,
        column: column.map(str::to_string),
        message,
    };
    let mut csv = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(reader);
    let index = crate::csv_import::header_index(file, &mut csv, &COLUMNS, &[0, 1], "symbol,name[,name_en,kind]")?;
    let mut out = Vec::new();
    let mut seen: HashMap<Symbol, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line());
                return Err(fail(line, None, format!("malformed CSV (or not UTF-8): {e}")));
            }
        }
        let line = record.position().map(|p| p.line());
        let cell = |column: usize| -> &str { if index[column] == usize::MAX { "" } else { record.get(index[column]).unwrap_or("") } };
        let symbol = Symbol::parse(cell(0)).map_err(|e| fail(line, Some("symbol"), e.to_string()))?;
        if symbol.is_fx() {
            return Err(fail(line, Some("symbol"), format!("{symbol} is an FX pair, not an instrument")));
        }
        if let Some(first) = seen.insert(symbol.clone(), line.unwrap_or(0)) {
            return Err(fail(line, Some("symbol"), format!("{symbol} appears twice (first on line {first})")));
        }
        let name = cell(1);
        if name.is_empty() {
            return Err(fail(line, Some("name"), "empty; every instrument needs its listed name".to_string()));
        }
        let name_en = Some(cell(2)).filter(|s| !s.is_empty()).map(str::to_string);
        let kind = match cell(3) {
            // An index symbol (`000300.SH`, `^HSI.HK`) is an index whatever the file leaves out,
            // so it never matches a company name.
            "" if symbol.is_index() => Kind::Index,
            "" => Kind::Stock,
            text => text.parse::<Kind>().map_err(|e| fail(line, Some("kind"), e))?,
        };
        if kind == Kind::Stock && symbol.global_index().is_some() {
            return Err(fail(line, Some("kind"), format!("{symbol} is an index, not a stock")));
        }
        let status = match cell(4) {
            "" => Status::Listed,
            text => text.parse::<Status>().map_err(|e| fail(line, Some("status"), e))?,
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
        assert_eq!(not_utf8.line, Some(2), "{not_utf8}");
    }
}
