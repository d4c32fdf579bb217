//! functions (skeleton)
