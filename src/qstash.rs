//! QStash webhook signature verification (filled in by the auth work package).
