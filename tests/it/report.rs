//! Integration tests for report.
