//! The list, search and smartbox parsers on recorded-format bodies
//! (`tests/fixtures/instruments/`, sources in its README).

use super::*;

const CLIST_A: &str = include_str!("../../../tests/fixtures/instruments/eastmoney-clist-a.json");
const CLIST_A_JSONP: &str = include_str!("../../../tests/fixtures/instruments/eastmoney-clist-a.jsonp");
const CLIST_HK_NP2: &str = include_str!("../../../tests/fixtures/instruments/eastmoney-clist-hk-np2.json");
const SEARCH: &str = include_str!("../../../tests/fixtures/instruments/eastmoney-search.json");
const SEARCH_404: &str = include_str!("../../../tests/fixtures/instruments/eastmoney-search-404.json");
const SMARTBOX_ESCAPES: &[u8] = include_bytes!("../../../tests/fixtures/instruments/tencent-smartbox-escapes.gbk");
const SMARTBOX_MIXED: &[u8] = include_bytes!("../../../tests/fixtures/instruments/tencent-smartbox-mixed.gbk");
const SMARTBOX_NONE: &[u8] = include_bytes!("../../../tests/fixtures/instruments/tencent-smartbox-none.gbk");

fn rows(instruments: &[Instrument]) -> Vec<(String, String, Kind, Status)> {
    instruments.iter().map(|i| (i.symbol.to_string(), i.name.clone(), i.kind, i.status)).collect()
}

fn row(symbol: &str, name: &str, kind: Kind, status: Status) -> (String, String, Kind, Status) {
    (symbol.to_string(), name.to_string(), kind, status)
}

#[test]
fn clist_page_without_market_ids_full_width_names_and_suspended_rows() {
    let page = parse_list_page(CLIST_A, ListSegment::A).unwrap();
    assert_eq!((page.total, page.row_count), (5535, 3));
    // Names are kept as listed (the resolver folds `万  科Ａ`); `f2: "-"` is a suspension.
    assert_eq!(
        rows(&page.instruments),
        [
            row("000001.SZ", "平安银行", Kind::Stock, Status::Listed),
            row("000002.SZ", "万  科Ａ", Kind::Stock, Status::Listed),
            row("000003.SZ", "PT金田A", Kind::Stock, Status::Suspended),
        ]
    );
}

#[test]
fn clist_jsonp_with_market_ids_drops_beijing_codes() {
    let page = parse_list_page(CLIST_A_JSONP, ListSegment::A).unwrap();
    assert_eq!(
        rows(&page.instruments),
        [row("600107.SH", "美尔雅", Kind::Stock, Status::Listed), row("688041.SH", "海光信息", Kind::Stock, Status::Listed)]
    );
    assert_eq!(page.skipped.len(), 1);
    assert!(page.skipped[0].starts_with("830799 艾融软件"), "{:?}", page.skipped);
}

#[test]
fn clist_diff_as_an_object_keyed_by_index_and_five_digit_hk_codes() {
    let page = parse_list_page(CLIST_HK_NP2, ListSegment::Hk).unwrap();
    assert_eq!(
        rows(&page.instruments),
        [
            row("0700.HK", "腾讯控股", Kind::Stock, Status::Listed),
            row("0020.HK", "商汤-W", Kind::Stock, Status::Listed),
            row("9988.HK", "阿里巴巴-SW", Kind::Stock, Status::Listed),
        ]
    );
}

#[test]
fn clist_failures_are_classified() {
    let err = parse_list_page(r#"{"rc":102,"data":null}"#, ListSegment::A).unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Malformed);
    assert!(err.message.contains("rc=102"), "{}", err.message);
    assert!(parse_list_page(r#"{"rc":0,"data":null}"#, ListSegment::A).unwrap_err().message.contains("data: null"));
    let html = parse_list_page("<html><title>访问受限</title></html>", ListSegment::A).unwrap_err();
    assert_eq!(html.kind, ProviderErrorKind::Blocked);
    let truncated = parse_list_page(&CLIST_A[..200], ListSegment::A).unwrap_err();
    assert_eq!(truncated.kind, ProviderErrorKind::Malformed);
    assert!(truncated.message.contains("unparseable JSON"), "{}", truncated.message);
    assert_eq!(parse_list_page("", ListSegment::Us).unwrap_err().kind, ProviderErrorKind::Blocked);
}

#[test]
fn us_list_codes_with_underscores_and_etfs() {
    let body = r#"{"rc":0,"data":{"total":3,"diff":[{"f2":410.1,"f12":"MSFT","f13":105,"f14":"微软"},{"f2":1.0,"f12":"BRK_B","f13":106,"f14":"伯克希尔哈撒韦B"},{"f2":10.0,"f12":"PDDL","f13":105,"f14":"2倍做多拼多多ETF"}]}}"#;
    let page = parse_list_page(body, ListSegment::Us).unwrap();
    assert_eq!(
        rows(&page.instruments),
        [
            row("MSFT.US", "微软", Kind::Stock, Status::Listed),
            row("BRK-B.US", "伯克希尔哈撒韦B", Kind::Stock, Status::Listed),
            row("PDDL.US", "2倍做多拼多多ETF", Kind::Etf, Status::Listed),
        ]
    );
}

#[test]
fn search_maps_security_types_and_drops_boards() {
    let found = parse_search(SEARCH).unwrap();
    assert_eq!(
        rows(&found),
        [
            // 科创板 has no entry in efinance's table: it is Shanghai.
            row("688041.SH", "海光信息", Kind::Stock, Status::Listed),
            row("0020.HK", "商汤-W", Kind::Stock, Status::Listed),
            row("MSFT.US", "微软", Kind::Stock, Status::Listed),
            row("000300.SH", "沪深300", Kind::Index, Status::Listed),
            // BK0800 人工智能 (板块) is dropped.
            row("510300.SH", "沪深300ETF", Kind::Etf, Status::Listed),
            row("300308.SZ", "中际旭创", Kind::Stock, Status::Listed),
        ]
    );
    // The same answer wrapped as JSONP.
    assert_eq!(parse_search(&format!("jQuery1_2({});", SEARCH.trim())).unwrap(), found);
}

#[test]
fn search_business_errors_and_empty_results() {
    let err = parse_search(SEARCH_404).unwrap_err();
    assert!(err.message.contains("404") && err.message.contains("Path mismatch"), "{}", err.message);
    assert!(parse_search(r#"{"code":"0","result":[]}"#).unwrap().is_empty());
    assert!(parse_search(r#"{"code":0,"result":null}"#).unwrap().is_empty());
    let wap = r#"{"code":"0","result":{"quoteList":[{"code":"00700","shortName":"腾讯控股","market":116,"securityTypeName":"港股"}]}}"#;
    assert_eq!(rows(&parse_search(wap).unwrap()), [row("0700.HK", "腾讯控股", Kind::Stock, Status::Listed)]);
}

#[test]
fn smartbox_gbk_body_with_unicode_escapes() {
    let found = parse_smartbox(SMARTBOX_ESCAPES).unwrap();
    assert_eq!(
        rows(&found),
        [
            row("000847.SH", "腾讯济安", Kind::Index, Status::Listed),
            row("0700.HK", "腾讯控股", Kind::Stock, Status::Listed),
            row("TCEHY.US", "Tencent Holdings Limited", Kind::Stock, Status::Listed),
            row("159501.SZ", "纳指ETF嘉实", Kind::Etf, Status::Listed),
            row("508006.SH", "富国首创水务REIT", Kind::Fund, Status::Listed),
            // jj~007005 (an OTC fund) has no exchange symbol.
        ]
    );
    assert_eq!(found[2].name_en.as_deref(), Some("Tencent Holdings Limited"));
}

#[test]
fn smartbox_gbk_body_with_short_hk_codes_us_suffixes_and_an_ellipsis_row() {
    let found = parse_smartbox(SMARTBOX_MIXED).unwrap();
    assert_eq!(
        rows(&found),
        [
            row("600519.SH", "贵州茅台", Kind::Stock, Status::Listed),
            row("0700.HK", "腾讯控股", Kind::Stock, Status::Listed),
            row("9988.HK", "阿里巴巴-SW", Kind::Stock, Status::Listed),
            row("AAPL.US", "苹果", Kind::Stock, Status::Listed),
            row("MSFT.US", "微软", Kind::Stock, Status::Listed),
            row("PDDL.US", "2倍做多拼多多ETF", Kind::Etf, Status::Listed),
        ]
    );
    // The same text sent as UTF-8 parses the same.
    let utf8 = decode_text(SMARTBOX_MIXED);
    assert_eq!(parse_smartbox(utf8.as_bytes()).unwrap(), found);
}

#[test]
fn smartbox_no_hit_and_broken_bodies() {
    assert!(parse_smartbox(SMARTBOX_NONE).unwrap().is_empty());
    assert_eq!(parse_smartbox(b"").unwrap_err().kind, ProviderErrorKind::Blocked);
    assert_eq!(parse_smartbox(b"<html>503</html>").unwrap_err().kind, ProviderErrorKind::Blocked);
    assert!(parse_smartbox(b"var x=1;").unwrap_err().message.contains("v_hint"));
    assert!(parse_smartbox(b"v_hint=\"sh~600519~").unwrap_err().message.contains("cut short"));
    let rows = parse_smartbox("v_hint=\"us~brk.b.n~伯克希尔~bkxe~GP^sh~60051~短~d~GP\";".as_bytes()).unwrap();
    assert_eq!(rows.iter().map(|i| i.symbol.to_string()).collect::<Vec<_>>(), ["BRK-B.US"]);
}

#[test]
fn unicode_escapes_decode_and_malformed_ones_stay() {
    assert_eq!(unescape_u(r"\u817e\u8baf"), "腾讯");
    assert_eq!(unescape_u(r"\ud83d\ude00!"), "😀!");
    assert_eq!(unescape_u(r"\u12 \uZZZZ \u"), r"\u12 \uZZZZ \u");
    assert_eq!(unescape_u(r"\ud800x"), r"\ud800x");
}

#[test]
fn list_queries_page_at_the_configured_size() {
    let query = list_query(ListSegment::Hk, 3, 100);
    let get = |k: &str| query.iter().find(|(key, _)| *key == k).map(|(_, v)| v.as_str());
    assert_eq!(
        (get("pn"), get("pz"), get("np"), get("fs")),
        (Some("3"), Some("100"), Some("1"), Some("m:128 t:3,m:128 t:4,m:128 t:1,m:128 t:2"))
    );
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), text in "\\PC{0,80}") {
            let _ = parse_smartbox(&bytes);
            let _ = parse_smartbox(format!("v_hint=\"{text}\";").as_bytes());
            let _ = parse_search(&text);
            let _ = parse_list_page(&text, ListSegment::A);
            let _ = unescape_u(&text);
        }
    }
}

#[test]
fn list_segments_keep_their_names_and_aliases() {
    use strum::IntoEnumIterator;
    // The names `instruments sync --market` takes and progress lines print.
    let names = ["A", "HK", "US"];
    assert_eq!(ListSegment::iter().collect::<Vec<_>>(), ListSegment::ALL);
    for (segment, name) in ListSegment::iter().zip(names) {
        assert_eq!(segment.as_str(), name);
        assert_eq!(ListSegment::parse(name), Some(segment));
        assert_eq!(ListSegment::parse(&format!(" {} ", name.to_lowercase())), Some(segment));
    }
    assert_eq!(ListSegment::parse("cn"), Some(ListSegment::A));
    assert_eq!(ListSegment::parse("EU"), None);
}
