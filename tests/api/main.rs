//! One integration-test binary: every module runs against real services
//! (Redis at `REDIS_URL`, default `redis://127.0.0.1:6379`).

mod ratelimit;
mod upstash;
