//! Vercel function: see `enghub::functions::Function::CronGithubSync`.

#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    enghub::functions::serve(enghub::functions::Function::CronGithubSync).await
}
