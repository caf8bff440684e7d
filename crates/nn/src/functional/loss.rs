//! Losses; being written.
