//! app (skeleton)
