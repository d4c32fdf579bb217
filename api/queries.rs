//! Vercel function: see `enghub::functions::Function::Queries`.

#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    enghub::functions::serve(enghub::functions::Function::Queries).await
}
