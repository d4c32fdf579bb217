//! procedures (skeleton)
