use super::*;

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn inst(symbol: &str, name: &str, name_en: Option<&str>, kind: Kind) -> Instrument {
    Instrument { symbol: sym(symbol), name: name.to_string(), name_en: name_en.map(str::to_string), kind, status: Status::Listed }
}

fn stock(symbol: &str, name: &str, name_en: Option<&str>) -> Instrument {
    inst(symbol, name, name_en, Kind::Stock)
}

/// A small master with the shapes that matter (names as the exchanges list them).
fn master() -> Vec<Instrument> {
    vec![
        stock("688041.SH", "海光信息", Some("Hygon")),
        stock("688256.SH", "寒武纪-U", Some("Cambricon")),
        stock("0700.HK", "腾讯控股", Some("Tencent")),
        stock("1698.HK", "腾讯音乐-SW", Some("Tencent Music")),
        inst("000847.SH", "腾讯济安", None, Kind::Index),
        stock("9988.HK", "阿里巴巴-SW", Some("Alibaba Group Holding Ltd")),
        stock("BABA.US", "阿里巴巴", None),
        stock("9888.HK", "百度集团-SW", None),
        stock("BIDU.US", "百度", Some("Baidu Inc")),
        stock("0020.HK", "商汤-W", Some("SenseTime Group Inc")),
        stock("MSFT.US", "微软", Some("Microsoft Corp")),
        stock("META.US", "Meta Platforms", Some("Meta Platforms Inc Class A")),
        stock("GOOGL.US", "谷歌-A", Some("Alphabet Inc Class A")),
        stock("GOOG.US", "谷歌-C", Some("Alphabet Inc Class C")),
        stock("600941.SH", "中国移动", Some("China Mobile")),
        stock("0941.HK", "中国移动", Some("China Mobile Ltd")),
        stock("601728.SH", "中国电信", None),
        stock("0728.HK", "中国电信", None),
        stock("600050.SH", "中国联通", None),
        stock("0762.HK", "中国联通", None),
        stock("0992.HK", "联想集团", Some("Lenovo Group Ltd")),
        stock("3396.HK", "联想控股", Some("Legend Holdings")),
        stock("000002.SZ", "万  科Ａ", None),
        stock("9926.HK", "康方生物-B", None),
        inst("000300.SH", "沪深300", Some("CSI 300"), Kind::Index),
        inst("510300.SH", "沪深300ETF", None, Kind::Etf),
        inst("508006.SH", "富国首创水务REIT", None, Kind::Fund),
        inst("515880.SH", "中国移动ETF", None, Kind::Etf),
    ]
}

fn resolver() -> Resolver {
    Resolver::new(master(), Aliases::shipped().unwrap(), &ListingPreference::default())
}

/// `Resolved`'s primary and alternates as text, or a panic naming what came instead.
fn resolved(r: &Resolver, name: &str) -> (String, Vec<String>, Option<Step>) {
    match r.resolve_with_step(name) {
        (Resolution::Resolved(c), step) => (c.primary.to_string(), c.alternates.iter().map(|s| s.to_string()).collect(), step),
        other => panic!("{name}: expected Resolved, got {other:?}"),
    }
}

#[test]
fn exact_names_resolve_first() {
    let r = resolver();
    assert_eq!(resolved(&r, "海光信息"), ("688041.SH".into(), vec![], Some(Step::Exact)));
    assert_eq!(resolved(&r, " 海光信息 "), ("688041.SH".into(), vec![], Some(Step::Exact)));
}

#[test]
fn full_width_and_spaces_fold() {
    let r = resolver();
    // "万  科Ａ" is listed with two ASCII spaces and a full-width Ａ.
    assert_eq!(resolved(&r, "万科A"), ("000002.SZ".into(), vec![], Some(Step::Folded)));
    assert_eq!(resolved(&r, "万 科 ａ"), ("000002.SZ".into(), vec![], Some(Step::Folded)));
    assert_eq!(fold("Ｍｅｔａ　Platforms"), "metaplatforms");
}

#[test]
fn hk_and_star_suffixes_and_legal_forms_are_tolerated_both_ways() {
    let r = resolver();
    assert_eq!(resolved(&r, "寒武纪"), ("688256.SH".into(), vec![], Some(Step::Reduced)));
    assert_eq!(resolved(&r, "商汤"), ("0020.HK".into(), vec![], Some(Step::Reduced)));
    assert_eq!(resolved(&r, "康方生物"), ("9926.HK".into(), vec![], Some(Step::Reduced)));
    // 腾讯 → 腾讯控股; the index 腾讯济安 and 腾讯音乐-SW are other names.
    assert_eq!(resolved(&r, "腾讯"), ("0700.HK".into(), vec![], Some(Step::Reduced)));
    // The other way round: the text adds a legal form the list lacks.
    assert_eq!(resolved(&r, "海光信息股份有限公司"), ("688041.SH".into(), vec![], Some(Step::Reduced)));
    assert_eq!(resolved(&r, "腾讯控股有限公司"), ("0700.HK".into(), vec![], Some(Step::Reduced)));
    assert_eq!(reduce("百度集团-SW"), "百度");
    assert_eq!(reduce("寒武纪－ＵＷ"), "寒武纪");
    assert_eq!(reduce("集团"), "集团");
}

#[test]
fn a_and_h_and_us_listings_are_one_company_with_a_share_first() {
    let r = resolver();
    assert_eq!(resolved(&r, "中国移动"), ("600941.SH".into(), vec!["0941.HK".into()], Some(Step::Exact)));
    // 阿里巴巴 is BABA.US's exact name, but the company's preferred listing is HK.
    assert_eq!(resolved(&r, "阿里巴巴"), ("9988.HK".into(), vec!["BABA.US".into()], Some(Step::Exact)));
    assert_eq!(resolved(&r, "百度"), ("9888.HK".into(), vec!["BIDU.US".into()], Some(Step::Exact)));
    let Resolution::Resolved(baidu) = r.resolve("百度") else { panic!() };
    assert_eq!(baidu.name, "百度集团-SW");
    assert_eq!(baidu.name_en.as_deref(), Some("Baidu Inc"), "the first English name among the listings");
}

#[test]
fn the_listing_preference_is_configurable() {
    let prefer_us = ListingPreference::parse(&["US", "HK"]).unwrap();
    assert_eq!(prefer_us.venues(), &[Venue::Us, Venue::Hk, Venue::A]);
    let r = Resolver::new(master(), Aliases::default(), &prefer_us);
    assert_eq!(resolved(&r, "阿里巴巴").0, "BABA.US");
    assert_eq!(resolved(&r, "中国移动"), ("0941.HK".into(), vec!["600941.SH".into()], Some(Step::Exact)));
    assert!(ListingPreference::parse(&["A", "A"]).is_err());
    assert!(ListingPreference::parse(&["JP"]).unwrap_err().contains("JP"));
}

#[test]
fn english_names_match_case_insensitively_without_legal_forms() {
    let r = resolver();
    assert_eq!(resolved(&r, "Microsoft"), ("MSFT.US".into(), vec![], Some(Step::English)));
    assert_eq!(resolved(&r, "MICROSOFT CORPORATION"), ("MSFT.US".into(), vec![], Some(Step::English)));
    assert_eq!(resolved(&r, "META PLATFORMS, INC."), ("META.US".into(), vec![], Some(Step::English)), "Meta Platforms Inc Class A");
    // "Platforms" is part of the name, not a legal form: plain "Meta" only suggests it.
    let Resolution::NotFound { suggestions } = r.resolve("Meta") else { panic!() };
    assert_eq!(suggestions.iter().map(|c| c.symbol.to_string()).collect::<Vec<_>>(), ["META.US"]);
    assert_eq!(resolved(&r, "Lenovo"), ("0992.HK".into(), vec![], Some(Step::English)));
    assert_eq!(english_key("Alibaba Group Holding Ltd"), "alibaba");
    assert_eq!(english_key("The Walt Disney Co"), "walt disney");
    assert_eq!(english_key("中国移动"), "");
}

#[test]
fn aliases_come_first_and_may_name_several_companies() {
    let r = resolver();
    assert_eq!(resolved(&r, "谷歌"), ("GOOGL.US".into(), vec![], Some(Step::Alias)));
    assert_eq!(resolved(&r, "google"), ("GOOGL.US".into(), vec![], Some(Step::Alias)));
    assert_eq!(resolved(&r, "商汤科技"), ("0020.HK".into(), vec![], Some(Step::Alias)));
    let (resolution, step) = r.resolve_with_step("运营商");
    assert_eq!(step, Some(Step::Alias));
    let Resolution::Many { companies } = resolution else { panic!("{resolution:?}") };
    let got: Vec<(String, Vec<String>)> =
        companies.iter().map(|c| (c.primary.to_string(), c.alternates.iter().map(|s| s.to_string()).collect())).collect();
    assert_eq!(
        got,
        vec![
            ("600941.SH".to_string(), vec!["0941.HK".to_string()]),
            ("601728.SH".to_string(), vec!["0728.HK".to_string()]),
            ("600050.SH".to_string(), vec!["0762.HK".to_string()]),
        ]
    );
}

#[test]
fn a_user_alias_overrides_the_shipped_one_and_same_company_joins_listings() {
    let mut aliases = Aliases::shipped().unwrap();
    let user = Aliases::parse("same_company = [[\"0020.HK\", \"688041.SH\"]]\n[aliases]\n\"谷歌\" = \"GOOG.US\"\n", "mine.toml").unwrap();
    aliases.extend(user);
    let r = Resolver::new(master(), aliases, &ListingPreference::default());
    assert_eq!(resolved(&r, "谷歌").0, "GOOG.US");
    // A nonsensical but explicit link: the A-share becomes primary, the HK listing an alternate.
    assert_eq!(resolved(&r, "商汤"), ("688041.SH".into(), vec!["0020.HK".into()], Some(Step::Reduced)));
}

#[test]
fn an_alias_to_a_symbol_the_list_lacks_still_resolves() {
    let r = Resolver::new(Vec::new(), Aliases::shipped().unwrap(), &ListingPreference::default());
    let Resolution::Resolved(c) = r.resolve("谷歌") else { panic!() };
    assert_eq!((c.primary.to_string(), c.name.as_str()), ("GOOGL.US".to_string(), "谷歌"));
}

#[test]
fn ambiguity_is_never_guessed() {
    let r = resolver();
    // 联想集团 and 联想控股 both reduce to 联想, both in HK: two companies.
    let Resolution::Ambiguous { candidates } = r.resolve("联想") else { panic!() };
    let symbols: Vec<String> = candidates.iter().map(|c| c.primary.to_string()).collect();
    assert_eq!(symbols, ["0992.HK", "3396.HK"]);
    // Two share classes in one venue are not joined: "Alphabet" names both.
    let Resolution::Ambiguous { candidates } = r.resolve("Alphabet") else { panic!() };
    let symbols: Vec<String> = candidates.iter().map(|c| c.primary.to_string()).collect();
    assert_eq!(symbols, ["GOOG.US", "GOOGL.US"]);
    // The exact name still picks one.
    assert_eq!(resolved(&r, "联想集团").0, "0992.HK");
}

#[test]
fn a_name_written_as_a_ticker_resolves_when_one_listed_company_has_that_code() {
    let mut instruments = master();
    instruments.extend([
        stock("NVDA.US", "英伟达", Some("NVIDIA Corp")),
        stock("AAPL.US", "苹果", Some("Apple Inc")),
        stock("BRK-A.US", "伯克希尔哈撒韦-A", Some("Berkshire Hathaway Inc Class A")),
        stock("BRK-B.US", "伯克希尔哈撒韦-B", Some("Berkshire Hathaway Inc Class B")),
        Instrument { status: Status::Delisted, ..stock("TWTR.US", "推特", Some("Twitter Inc")) },
    ]);
    let r = Resolver::new(instruments, Aliases::shipped().unwrap(), &ListingPreference::default());
    // No name, folded name or English name is "nvda" (NVIDIA's English key is "nvidia"): the code decides.
    assert_eq!(resolved(&r, "NVDA"), ("NVDA.US".into(), vec![], Some(Step::Ticker)));
    assert_eq!(resolved(&r, " ＡＡＰＬ "), ("AAPL.US".into(), vec![], Some(Step::Ticker)), "full-width capitals fold");
    // META's listed name is "Meta Platforms" (English key "meta platforms"), so META is a ticker too.
    assert_eq!(resolved(&r, "META"), ("META.US".into(), vec![], Some(Step::Ticker)));
    // A ticker names the company: 阿里巴巴's listings are one company, the HK one preferred.
    assert_eq!(resolved(&r, "BABA"), ("9988.HK".into(), vec!["BABA.US".into()], Some(Step::Ticker)));
    // A class written either way picks that class.
    assert_eq!(resolved(&r, "BRK.B"), ("BRK-B.US".into(), vec![], Some(Step::Ticker)));
    assert_eq!(resolved(&r, "BRK-A"), ("BRK-A.US".into(), vec![], Some(Step::Ticker)));
    // Without a class it names both classes, two companies in one venue: ambiguous, not guessed.
    let (Resolution::Ambiguous { candidates }, Some(Step::Ticker)) = r.resolve_with_step("BRK") else { panic!("{:?}", r.resolve("BRK")) };
    let symbols: Vec<String> = candidates.iter().map(|c| c.primary.to_string()).collect();
    assert_eq!(symbols, ["BRK-A.US", "BRK-B.US"]);
    // A delisted code, an unknown code and words not written as tickers stay not found.
    for name in ["TWTR", "XYZQ", "nvda", "Nvda", "NVDAXY", "BRK.BB", "NVDA1"] {
        assert!(matches!(r.resolve(name), Resolution::NotFound { .. }), "{name}: {:?}", r.resolve(name));
    }
    // A name match comes first: "MSFT" is no name, but "Microsoft" still resolves by its English name.
    assert_eq!(resolved(&r, "MSFT"), ("MSFT.US".into(), vec![], Some(Step::Ticker)));
    assert_eq!(resolved(&r, "Microsoft"), ("MSFT.US".into(), vec![], Some(Step::English)));
    assert_eq!(ticker_word("BRK.b"), None);
    assert_eq!(ticker_word("brk-b"), None);
    assert_eq!(ticker_word("BRK.B").as_deref(), Some("BRK-B"));
}

#[test]
fn a_ticker_never_beats_a_name_that_matches() {
    // A stock listed under a name that is another stock's code: the name step (exact) wins.
    let instruments = vec![stock("0001.HK", "ABC", None), stock("ABC.US", "某公司", None)];
    let r = Resolver::new(instruments, Aliases::default(), &ListingPreference::default());
    assert_eq!(resolved(&r, "ABC"), ("0001.HK".into(), vec![], Some(Step::Exact)));
}

#[test]
fn indices_funds_and_etfs_never_match_a_company_name() {
    let r = resolver();
    for name in ["沪深300", "沪深300ETF", "富国首创水务REIT", "腾讯济安", "CSI 300", "中国移动ETF"] {
        assert!(matches!(r.resolve(name), Resolution::NotFound { .. }), "{name}");
    }
}

#[test]
fn not_found_suggests_names_containing_the_query_stocks_first() {
    let r = resolver();
    let Resolution::NotFound { suggestions } = r.resolve("中国") else { panic!() };
    let got: Vec<String> = suggestions.iter().map(|c| c.symbol.to_string()).collect();
    // Stocks (closest name length first, then symbol), then the ETF 中国移动ETF.
    assert_eq!(got, ["0728.HK", "0762.HK", "0941.HK", "600050.SH", "600941.SH", "601728.SH", "515880.SH"]);
    let Resolution::NotFound { suggestions } = r.resolve("苹果") else { panic!() };
    assert!(suggestions.is_empty());
    assert_eq!(r.resolve("  "), Resolution::NotFound { suggestions: vec![] });
}

#[test]
fn search_lists_all_kinds_resolved_company_first() {
    let r = resolver();
    let got: Vec<String> = r.search("腾讯", 10).iter().map(|c| c.symbol.to_string()).collect();
    assert_eq!(got, ["0700.HK", "1698.HK", "000847.SH"]);
    let got: Vec<String> = r.search("0941.hk", 10).iter().map(|c| c.symbol.to_string()).collect();
    assert_eq!(got, ["0941.HK"]);
}

#[test]
fn the_shipped_alias_file_parses_and_bad_files_name_the_problem() {
    let shipped = Aliases::shipped().unwrap();
    assert!(shipped.len() >= 10);
    let err = Aliases::parse("[aliases]\n\"x\" = \"NOPE.XX\"\n", "user.toml").unwrap_err();
    assert!(err.to_string().contains("user.toml") && err.to_string().contains("line 2"), "{err}");
    let err = Aliases::parse("[aliases]\n\"Google\" = \"GOOGL.US\"\n\"ＧＯＯＧＬＥ\" = \"GOOG.US\"\n", "u.toml").unwrap_err();
    assert!(err.to_string().contains("same name once folded"), "{err}");
    assert!(Aliases::parse("colour = 1", "u.toml").unwrap_err().to_string().contains("colour"));
    assert!(Aliases::parse("same_company = [[\"0700.HK\"]]", "u.toml").is_err());
}

#[test]
fn kinds_and_statuses_parse() {
    for kind in Kind::ALL {
        assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
    }
    assert_eq!(" ETF ".parse::<Kind>(), Ok(Kind::Etf));
    assert!("bond".parse::<Kind>().unwrap_err().contains("bond"));
    assert_eq!("Delisted".parse::<Status>(), Ok(Status::Delisted));
}

#[test]
fn a_delisted_listing_is_never_primary_over_a_live_one() {
    let mut list = master();
    for i in &mut list {
        if i.symbol == sym("600941.SH") {
            i.status = Status::Delisted;
        }
    }
    let r = Resolver::new(list, Aliases::default(), &ListingPreference::default());
    assert_eq!(resolved(&r, "中国移动"), ("0941.HK".into(), vec!["600941.SH".into()], Some(Step::Exact)));
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn resolution_and_folding_never_panic(name in "\\PC{0,24}", extra in "[-－ 　ＳＷ股份集团控股有限公司a-zA-Z0-9]{0,12}") {
            let r = resolver();
            let query = format!("{name}{extra}");
            let _ = fold(&query);
            let _ = reduce(&query);
            let _ = english_key(&query);
            let _ = r.resolve(&query);
            let _ = r.search(&query, 5);
            // Any instrument name is accepted too.
            let mut list = master();
            list.push(stock("600000.SH", &query, Some(&query)));
            let r = Resolver::new(list, Aliases::default(), &ListingPreference::default());
            let _ = r.resolve(&query);
        }
    }
}

#[test]
fn kinds_statuses_venues_and_steps_keep_their_text() {
    use strum::IntoEnumIterator;
    // The text in the store (`instruments.kind`, `.status`), in JSON and in config: it must never change.
    let kinds = ["stock", "index", "fund", "etf"];
    for (kind, text) in Kind::iter().zip(kinds) {
        assert_eq!((kind.as_str(), kind.to_string()), (text, text.to_string()));
        assert_eq!(text.parse::<Kind>(), Ok(kind));
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{text}\""));
    }
    assert_eq!(Kind::iter().count(), kinds.len());
    let statuses = ["listed", "suspended", "delisted"];
    for (status, text) in Status::iter().zip(statuses) {
        assert_eq!((status.as_str(), status.to_string()), (text, text.to_string()));
        assert_eq!(text.parse::<Status>(), Ok(status));
        assert_eq!(serde_json::to_string(&status).unwrap(), format!("\"{text}\""));
    }
    assert_eq!(Status::iter().count(), statuses.len());
    let venues = ["A", "HK", "US"];
    for (venue, text) in Venue::iter().zip(venues) {
        assert_eq!(<&str>::from(venue), text);
        assert_eq!(text.parse::<Venue>(), Ok(venue));
        assert_eq!(format!(" {} ", text.to_lowercase()).parse::<Venue>(), Ok(venue));
        assert_eq!(serde_json::to_string(&venue).unwrap(), format!("\"{text}\""));
    }
    assert_eq!(Venue::iter().count(), venues.len());
    // Aliases that parsing keeps.
    for (alias, kind) in [("share", Kind::Stock), ("Equity", Kind::Stock), ("REIT", Kind::Fund)] {
        assert_eq!(alias.parse::<Kind>(), Ok(kind));
    }
    for alias in ["cn", "SH", "sz"] {
        assert_eq!(alias.parse::<Venue>(), Ok(Venue::A));
    }
    let steps = ["alias", "exact name", "folded name", "name without suffix or legal form", "English name", "ticker"];
    assert_eq!(Step::iter().map(Step::as_str).collect::<Vec<_>>(), steps);
    assert_eq!(serde_json::to_string(&Step::Reduced).unwrap(), "\"reduced\"");
}

#[test]
fn kind_status_and_venue_errors_list_the_accepted_values() {
    assert_eq!(" bond ".parse::<Kind>(), Err("unknown kind `bond` (expected stock, index, fund or etf)".to_string()));
    assert_eq!("gone".parse::<Status>(), Err("unknown listing status `gone` (expected listed, suspended or delisted)".to_string()));
    assert_eq!("EU".parse::<Venue>(), Err("unknown listing venue `EU` (expected A, HK or US)".to_string()));
}
