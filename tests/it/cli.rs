//! CLI tests for the foundation commands (init, watchlist, reports, import, export, config).
