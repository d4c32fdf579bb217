//! One integration-test binary; each module covers one part of the API against real services.

mod db;
mod test_db;
