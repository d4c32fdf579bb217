//! Upstash-compatible REST bridge in front of a real Redis (filled in by the upstash work package).
