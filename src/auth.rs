//! Clerk session-token verification (filled in by the auth work package).
