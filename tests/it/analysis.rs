//! Integration tests for analysis.
