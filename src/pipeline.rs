//! Placeholder: loads what the analysis needs from the store and runs it.
