//! cache (skeleton)
