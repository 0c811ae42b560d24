//! `ratingwatch sync` end to end: the real binary and the real provider clients against local
//! servers speaking each provider's format.

use predicates::str::contains;

use crate::support::ratingwatch;

/// Points every provider at `base_url` with no retries and no rate limit, so failures are quick.
fn point_providers_at(cmd: &mut assert_cmd::Command, base_url: &str) {
    for provider in ["TENCENT", "EASTMONEY", "YAHOO"] {
        cmd.env(format!("RATINGWATCH__PROVIDERS__{provider}__BASE_URL"), base_url)
            .env(format!("RATINGWATCH__PROVIDERS__{provider}__MAX_RETRIES"), "0")
            .env(format!("RATINGWATCH__PROVIDERS__{provider}__REQUESTS_PER_SECOND"), "0");
    }
}

#[test]
fn an_unrecognised_symbol_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path())
        .args(["sync", "--symbol", "600941.XX"])
        .assert()
        .code(2)
        .stderr(contains("`600941.XX` is not a symbol: unknown market suffix `.XX`"));
}

#[test]
fn a_symbol_off_the_watchlist_is_a_usage_error_that_says_how_to_add_it() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path())
        .args(["sync", "--symbol", "aapl"])
        .assert()
        .code(2)
        .stderr(contains("AAPL.US is not on the watchlist; add with `ratingwatch watchlist add SYMBOL --sector SECTOR`"));
}

#[tokio::test]
async fn every_provider_failing_exits_1_naming_the_symbol_and_records_the_run() {
    // A server with no routes answers 404 to everything.
    let server = wiremock::MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ratingwatch(dir.path());
    point_providers_at(&mut cmd, &server.uri());
    cmd.args(["sync", "--symbol", "600941.SH"]);
    let assert = tokio::task::spawn_blocking(move || cmd.assert()).await.unwrap();
    assert.code(1).stderr(contains("failed: 600941.SH via yahoo: tencent: ")).stdout(contains("synced 0 of 1 securities"));

    let store = ratingwatch::store::Store::open(&dir.path().join("test.db")).unwrap();
    let run = &store.sync_runs(1).unwrap()[0];
    assert_eq!((run.trigger.as_str(), run.outcome.as_str(), run.failures), ("cli", "failed", 1));
    assert_eq!(store.sync_failures(run.id).unwrap()[0].symbol, "600941.SH");
}
